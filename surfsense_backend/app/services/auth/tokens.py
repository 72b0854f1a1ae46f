"""Bearer tokens that end when the user logs out or is deleted.

A token is 32 random bytes; the database keeps its SHA-256 with the user and
the time it was issued. Reading one is a single statement that finds the user
through it, as reading a signed token's user was.
"""

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from fastapi_users import BaseUserManager
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.text import unstorable
from app.models import AccessToken, User


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DatabaseTokenStrategy:
    """fastapi-users' Strategy: tokens written and destroyed in the request's
    session (which commits at the edge), read by a `reads` session: one
    statement and no transaction on a direct connection (see
    `create_read_sessionmaker`), and the request's own work in a transaction
    of its own either way."""

    def __init__(
        self, session: AsyncSession, reads: async_sessionmaker[AsyncSession], lifetime_seconds: int
    ) -> None:
        self.session = session
        self.reads = reads
        self.lifetime = timedelta(seconds=lifetime_seconds)

    def _oldest_valid(self) -> datetime:
        return datetime.now(UTC) - self.lifetime

    async def read_token(
        self, token: str | None, user_manager: BaseUserManager[User, uuid.UUID]
    ) -> User | None:
        if not token or unstorable(token):
            return None
        statement = (
            select(User)
            .join(AccessToken, AccessToken.user_id == User.id)
            .where(
                AccessToken.token_hash == token_hash(token), AccessToken.created_at >= self._oldest_valid()
            )
        )
        async with self.reads() as reads:
            user: User | None = await reads.scalar(statement)
        return user

    async def write_token(self, user: User) -> str:
        # The user's expired tokens go as a new one comes: bounded per user.
        await self.session.execute(
            delete(AccessToken).where(
                AccessToken.user_id == user.id, AccessToken.created_at < self._oldest_valid()
            )
        )
        token = secrets.token_urlsafe(32)
        self.session.add(AccessToken(token_hash=token_hash(token), user_id=user.id))
        await self.session.flush()
        return token

    async def destroy_token(self, token: str, user: User) -> None:
        await self.session.execute(
            delete(AccessToken).where(
                AccessToken.token_hash == token_hash(token), AccessToken.user_id == user.id
            )
        )
