"""Read-side mapping of LangGraph's store table (long-term memory).

The store writes these rows with its own SQL (`app/services/store`); the ORM
maps them so Alembic sees the table and the owner's foreign key cascades.
The columns are what the installed `langgraph-checkpoint-postgres` store
migrations create, plus `user_id`, which a trigger fills from the prefix
(`services/store/migrations.py`): a user's id, or none for the app's own
items, whose prefix begins with the app's label (the migration's
`store_owner_check` says one or the other).
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class StoreMigration(Base):
    __tablename__ = "store_migrations"

    v: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class StoreItem(Base):
    __tablename__ = "store"
    __table_args__ = (
        Index("store_prefix_idx", "prefix", postgresql_ops={"prefix": "text_pattern_ops"}),
        Index("idx_store_expires_at", "expires_at", postgresql_where=text("expires_at IS NOT NULL")),
    )

    prefix: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[dict[str, Any]]
    created_at: Mapped[datetime | None] = mapped_column(server_default=func.current_timestamp())
    updated_at: Mapped[datetime | None] = mapped_column(server_default=func.current_timestamp())
    expires_at: Mapped[datetime | None]
    ttl_minutes: Mapped[int | None] = mapped_column(Integer)
    # None for the app's own items (STORE_SHARED_NAMESPACES), which no user owns.
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
