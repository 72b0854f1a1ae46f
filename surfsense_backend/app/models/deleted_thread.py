"""Tombstones of deleted conversations.

A run can still be writing checkpoints when its conversation is deleted; the
checkpoint triggers drop such late writes when they find a tombstone here.
"""

from datetime import datetime

from sqlalchemy import Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class DeletedThread(Base):
    __tablename__ = "deleted_threads"

    thread_id: Mapped[str] = mapped_column(Text, primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
