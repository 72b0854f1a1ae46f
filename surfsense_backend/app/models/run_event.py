"""A run's events, stored in order so any process can replay and follow the run."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, func
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class RunEvent(Base):
    """A batch of consecutive events: a token stream costs one row per
    progress interval, not one per token. `seq` is the sequence number of the
    batch's last event; its first is `seq - len(events) + 1`."""

    __tablename__ = "run_events"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("thread_runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True)
    # json, not jsonb: kept as written, so a replay sends the very bytes the live stream did.
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
