"""Durable chat memory: the public API of the persistence layer."""

from app.errors import InvalidRequest, NotFound
from app.services.persistence.errors import (
    CheckpointNotFound,
    ConversationNotFound,
    DatabaseRefused,
    DatabaseUnavailable,
    InvalidMessage,
    MessageTooLarge,
    PersistenceError,
    SchemaNotMigrated,
    ThreadsNotPruned,
)
from app.services.persistence.message_checkpointer import MessageCheckpointer
from app.services.persistence.retry import RetryPolicy, is_database_error, is_database_outage, is_transient
from app.services.persistence.shared_checkpointer import (
    close_checkpointer,
    get_checkpointer,
    get_message_checkpointer,
    setup_checkpointer_tables,
)
from app.services.persistence.storage_adapter import ConversationStorage, HistoryPage

__all__ = [
    "CheckpointNotFound",
    "ConversationNotFound",
    "ConversationStorage",
    "DatabaseRefused",
    "DatabaseUnavailable",
    "HistoryPage",
    "InvalidMessage",
    "InvalidRequest",
    "MessageCheckpointer",
    "MessageTooLarge",
    "NotFound",
    "PersistenceError",
    "RetryPolicy",
    "SchemaNotMigrated",
    "ThreadsNotPruned",
    "close_checkpointer",
    "get_checkpointer",
    "get_message_checkpointer",
    "is_database_error",
    "is_database_outage",
    "is_transient",
    "setup_checkpointer_tables",
]
