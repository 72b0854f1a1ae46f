"""Rows tests need, built the one way."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Conversation, User


def new_user() -> User:
    return User(email=f"{uuid.uuid4().hex}@example.com", hashed_password="not-a-real-hash")


async def add_conversation(
    session: AsyncSession, *, conversation_id: uuid.UUID | None = None, title: str | None = None
) -> tuple[User, Conversation]:
    """A new user and a conversation of theirs, flushed (not committed)."""
    user = new_user()
    session.add(user)
    await session.flush()
    conversation = Conversation(id=conversation_id or uuid.uuid4(), user_id=user.id, title=title)
    session.add(conversation)
    await session.flush()
    return user, conversation
