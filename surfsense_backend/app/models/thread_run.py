"""Thread runs: one agent run per message sent, with its outcome and feedback."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

# "interrupted": the graph stopped at interrupt() and waits for a resume.
RUN_STATUSES = ("running", "succeeded", "failed", "interrupted")
SENTIMENTS = ("positive", "negative")


class ThreadRun(Base):
    __tablename__ = "thread_runs"
    __table_args__ = (
        CheckConstraint(f"status IN {RUN_STATUSES}", name="status"),
        CheckConstraint(f"sentiment IN {SENTIMENTS}", name="sentiment"),
        Index("ix_thread_runs_conversation_id_started_at", "conversation_id", "started_at"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="running", default="running")
    error_kind: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)
    checkpoint_id: Mapped[str | None] = mapped_column(Text)
    # What the graph asked a person when it stopped ([{"id", "value"}]), and on
    # a run that resumed it, the answer it was given.
    interrupts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB(none_as_null=True))
    resume: Mapped[Any | None] = mapped_column(JSONB(none_as_null=True))
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]
    sentiment: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
