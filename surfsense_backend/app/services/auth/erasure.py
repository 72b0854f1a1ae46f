"""Erasing a user and everything of theirs, for data-erasure requests
(`surfsense-db delete-user`)."""

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Conversation, User
from app.services.auth.emails import normalize_email
from app.services.auth.errors import UserNotFound


async def find_user(session: AsyncSession, email: str) -> uuid.UUID:
    """A user's id by their email address, spelled as they registered or not."""
    user_id = await session.scalar(select(User.id).where(User.email == normalize_email(email)))
    if user_id is None:
        raise UserNotFound(email)
    return user_id


async def delete_user(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Delete a user and, by cascade, everything of theirs; return their conversation count."""
    conversations = await session.scalar(
        select(func.count()).select_from(Conversation).where(Conversation.user_id == user_id)
    )
    deleted = await session.execute(delete(User).where(User.id == user_id).returning(User.id))
    if deleted.scalar_one_or_none() is None:
        raise UserNotFound(user_id)
    return int(conversations or 0)
