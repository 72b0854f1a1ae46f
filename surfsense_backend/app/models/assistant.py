"""Assistants a user made: a graph from `langgraph.json` with a configuration
of its own (config, context, metadata, a name), and every version of it.

The graphs themselves are the shared system assistants; they live in code,
not here. An update adds a version and makes it current; an older version
can be made current again, so the row holds a copy of its current version.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

NAME_CHARS = 200
GRAPH_ID_CHARS = 64


class StoredAssistant(Base):
    __tablename__ = "assistants"
    # A user's assistants newest first, as a search lists them by default.
    __table_args__ = (Index("ix_assistants_user_id_created_at", "user_id", "created_at"),)
    # Timestamps the database sets come back with the statement that set them.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - SQLAlchemy reads it as a class attribute

    assistant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    graph_id: Mapped[str] = mapped_column(String(GRAPH_ID_CHARS))
    name: Mapped[str] = mapped_column(String(NAME_CHARS))
    description: Mapped[str | None] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"), default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"), default=dict)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", server_default=text("'{}'::jsonb"), default=dict
    )
    # The current version: the latest made, or the one made current since.
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"), default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class AssistantVersion(Base):
    """One version of an assistant, as it was made; never changed afterwards."""

    __tablename__ = "assistant_versions"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - SQLAlchemy reads it as a class attribute

    assistant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assistants.assistant_id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    graph_id: Mapped[str] = mapped_column(String(GRAPH_ID_CHARS))
    name: Mapped[str] = mapped_column(String(NAME_CHARS))
    description: Mapped[str | None] = mapped_column(Text)
    config: Mapped[dict[str, Any]]
    context: Mapped[dict[str, Any]]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
