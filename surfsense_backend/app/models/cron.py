"""Crons: a run a user asks for on a schedule, on one of their threads or
stateless (on a thread made for each run).

`next_run_at` is the next due time; the scheduler of whichever process sees
it due claims the row, starts the run and moves `next_run_at` past now in
one transaction, so each due time fires once. NULL: it will not fire again
(past its `end_time`).
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func, text, true
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

ON_RUN_COMPLETED = ("delete", "keep")
SCHEDULE_CHARS = 200
TIMEZONE_CHARS = 64


class Cron(Base):
    __tablename__ = "crons"
    __table_args__ = (
        CheckConstraint(f"on_run_completed IN {ON_RUN_COMPLETED}", name="on_run_completed"),
        # A user's crons newest first, as a search lists them by default.
        Index("ix_crons_user_id_created_at", "user_id", "created_at"),
        # What the schedulers poll: only the crons that will fire.
        Index("ix_crons_next_run_at", "next_run_at", postgresql_where=text("enabled")),
    )
    # Timestamps the database sets come back with the statement that set them.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - SQLAlchemy reads it as a class attribute

    cron_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The thread each run goes on; None: a stateless cron.
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    # As the run names it: a graph's id, or a user's assistant's UUID.
    assistant_id: Mapped[str] = mapped_column(String(64))
    schedule: Mapped[str] = mapped_column(String(SCHEDULE_CHARS))
    # An IANA zone the schedule is read in; None: UTC.
    timezone: Mapped[str | None] = mapped_column(String(TIMEZONE_CHARS))
    end_time: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(server_default=true(), default=True)
    # A stateless cron's threads: deleted once each run ended, or kept.
    on_run_completed: Mapped[str | None] = mapped_column(String(16))
    # The run each firing starts, as a run request's body.
    payload: Mapped[dict[str, Any]]
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", server_default=text("'{}'::jsonb"), default=dict
    )
    next_run_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
