"""Engine, sessions and the declarative base."""

from app.db.base import Base
from app.db.engine import (
    create_engine,
    create_read_sessionmaker,
    create_sessionmaker,
    resolve_database_url,
    session_scope,
)

__all__ = [
    "Base",
    "create_engine",
    "create_read_sessionmaker",
    "create_sessionmaker",
    "resolve_database_url",
    "session_scope",
]
