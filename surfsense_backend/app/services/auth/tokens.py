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
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.text import unstorable
from app.models import AccessToken, User


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DatabaseTokenStrategy:
    """fastapi-users' Strategy: tokens read, written and destroyed in the
    request's session, which commits at the edge. The read opens the request's
    one transaction: its BEGIN and COMMIT serve the route's own work too, and
    a read that behind PgBouncer needs a transaction anyway costs one statement."""

    def __init__(self, session: AsyncSession, lifetime_seconds: int) -> None:
        self.session = session
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
        user: User | None = await self.session.scalar(statement)
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
