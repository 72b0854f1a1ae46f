"""Engine, sessions and the declarative base."""

from app.db.base import Base
from app.db.engine import (
    create_engine,
    create_sessionmaker,
    create_statement_sessionmaker,
    resolve_database_url,
    session_scope,
)

__all__ = [
    "Base",
    "create_engine",
    "create_sessionmaker",
    "create_statement_sessionmaker",
    "resolve_database_url",
    "session_scope",
]
