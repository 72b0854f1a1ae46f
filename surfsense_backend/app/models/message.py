"""Messages: the chat history as users see it, in a stable order."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.content import Content

# An "interrupt" is a graph waiting for a person: its payload, then the answer given.
ROLES = ("user", "assistant", "system", "tool", "interrupt")
# A reply is "streaming" from the start of its run until the run ends; readers
# who reload mid-answer see its text so far, then the whole of it.
MESSAGE_STATUSES = ("complete", "streaming")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES}", name="role"),
        CheckConstraint(f"status IN {MESSAGE_STATUSES}", name="status"),
        # Keyset pagination of a conversation's history reads this index backwards.
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        # Full-text search over the owner's messages (built CONCURRENTLY, migration 0011).
        Index("ix_messages_search_vector", "search_vector", postgresql_using="gin"),
    )

    # An identity column orders messages stably, even when two share created_at.
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("thread_runs.run_id", ondelete="SET NULL"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    # The text a person reads (searched, previewed); for a message sent as
    # content blocks, their text parts, and the blocks themselves in `blocks`.
    content: Mapped[str] = mapped_column(Text)
    blocks: Mapped[list[Any] | None] = mapped_column(JSONB(none_as_null=True))
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", server_default=text("'{}'::jsonb"), default=dict
    )
    checkpoint_id: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="complete", default="complete")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Kept by a trigger (the search_config language), only on complete user
    # and assistant messages; never loaded with a message.
    search_vector: Mapped[Any | None] = mapped_column(TSVECTOR, deferred=True)

    @property
    def body(self) -> Content:
        """The content as it was sent: the blocks, or the text."""
        return self.blocks if self.blocks is not None else self.content
