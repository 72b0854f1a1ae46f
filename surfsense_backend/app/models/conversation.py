"""Conversations: one per LangGraph thread (the id is the thread_id)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, false, func, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

PREVIEW_CHARS = 200


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # Serves "a user's conversations, newest activity first" by an index scan.
        Index("ix_conversations_user_id_archived_updated_at", "user_id", "archived", "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(200))
    # The conversation this one was forked from, while it exists.
    forked_from_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    # The registered graph that answers in this conversation, fixed at creation.
    assistant_id: Mapped[str] = mapped_column(String(64), server_default="chat", default="chat")
    # The user's assistant (a configuration of that graph) its turns run with,
    # if one was chosen. Its deletion leaves the conversation on its graph's
    # defaults (decision 0024); indexed for that deletion's search.
    stored_assistant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assistants.assistant_id", ondelete="SET NULL"), index=True
    )
    archived: Mapped[bool] = mapped_column(server_default=false(), default=False)
    # Kept with each message saved, so a page of the conversation list needs
    # no per-row count or lookup into messages.
    message_count: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    last_message_preview: Mapped[str | None] = mapped_column(String(PREVIEW_CHARS))
    # A thread's metadata in the LangGraph Agent Server API: the client's own keys.
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", server_default=text("'{}'::jsonb"), default=dict
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The title's words for search, kept by a trigger; never loaded with a conversation.
    title_vector: Mapped[Any | None] = mapped_column(TSVECTOR, deferred=True)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    @property
    def thread_id(self) -> str:
        """The LangGraph thread this conversation's agent state lives in."""
        return str(self.id)
