"""Thread runs: one agent run per message sent, with its outcome and feedback.

A run is held by the process executing it under a lease that process renews;
a run whose lease ran out belongs to a process that died. Runs waiting their
turn on a conversation are `pending`, in the order they were sent.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.str_enum import StrEnumType
from app.models.run_status import CancelAction, RunStatus

RUN_STATUSES = tuple(RunStatus)
SENTIMENTS = ("positive", "negative")
CANCEL_ACTIONS = tuple(CancelAction)


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


class ThreadRun(Base):
    __tablename__ = "thread_runs"
    __table_args__ = (
        CheckConstraint(f"status IN {_sql_list(RUN_STATUSES)}", name="status"),
        CheckConstraint(f"sentiment IN {SENTIMENTS}", name="sentiment"),
        CheckConstraint(f"cancel_action IN {_sql_list(CANCEL_ACTIONS)}", name="cancel_action"),
        Index("ix_thread_runs_conversation_id_started_at", "conversation_id", "started_at"),
        # One running run per conversation, whichever process claims it; the
        # index is also the short list the lease keepers scan.
        Index(
            "ix_thread_runs_running_conversation_id",
            "conversation_id",
            unique=True,
            postgresql_where=text("status = 'running'"),
        ),
        # The queue: the pending runs of a conversation, oldest first.
        Index(
            "ix_thread_runs_pending_conversation_id_started_at",
            "conversation_id",
            "started_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )
    # What the database fills in (started_at, a lease's expiry) comes back with
    # the INSERT or UPDATE that wrote it, not with a SELECT after.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - SQLAlchemy reads it as a class attribute

    run_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    # A chat-API message sent as content blocks, on runs stored before runs
    # kept their spec in `kwargs` (which holds them now).
    blocks: Mapped[list[Any] | None] = mapped_column(JSONB(none_as_null=True))
    status: Mapped[RunStatus] = mapped_column(
        StrEnumType(RunStatus), server_default=RunStatus.RUNNING.value, default=RunStatus.RUNNING
    )
    error_kind: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)
    checkpoint_id: Mapped[str | None] = mapped_column(Text)
    # What the graph asked a person when it stopped ([{"id", "value"}]), and on
    # a run that resumed it, the answer it was given.
    interrupts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB(none_as_null=True))
    resume: Mapped[Any | None] = mapped_column(JSONB(none_as_null=True))
    # A run of the LangGraph Agent Server API: its request (the graph's input,
    # the stream modes, metadata), so any process can start it from the queue.
    kwargs: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    # The process holding a running run, and until when its lease lasts.
    lease_owner: Mapped[uuid.UUID | None]
    lease_expires_at: Mapped[datetime | None]
    # Set by a cancel (or a newer message's multitask strategy); the holder acts on it.
    cancel_action: Mapped[CancelAction | None] = mapped_column(StrEnumType(CancelAction))
    # When it was sent; a pending run keeps its place in the queue by it.
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]
    sentiment: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
