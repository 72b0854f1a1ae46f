"""Typed errors of the persistence layer.

Each carries the HTTP status it maps to (see `app.errors`).
"""

from collections.abc import Mapping

from app.errors import AppError, Conflict, NotFound

# The errors about messages live with them; exported here as they always were.
from app.services.messages.errors import InvalidMessage, MessageNotFound, MessageTooLarge

__all__ = [
    "CheckpointNotFound",
    "ConversationNotFound",
    "DatabaseRefused",
    "DatabaseUnavailable",
    "InvalidMessage",
    "MessageNotFound",
    "MessageTooLarge",
    "PersistenceError",
    "SchemaNotMigrated",
    "ThreadsNotPruned",
    "UpstreamChanged",
]


class PersistenceError(AppError):
    """Base of every error this package raises on purpose."""


class ConversationNotFound(PersistenceError, NotFound):
    def __init__(self, conversation_id: object = None) -> None:
        # No id: found gone by a write that referred to it (app.services.integrity).
        if conversation_id is None:
            super().__init__("The conversation was deleted while this request was served.")
        else:
            super().__init__(f"Conversation {conversation_id} was not found.")


class CheckpointNotFound(PersistenceError, NotFound):
    def __init__(self, checkpoint_id: object) -> None:
        super().__init__(f"Checkpoint {checkpoint_id} was not found.")


class DatabaseUnavailable(PersistenceError):
    """The database could not be reached within the retry budget."""

    status_code = 503


class DatabaseRefused(PersistenceError):
    """The database answered but will not serve us (no such database, bad password).

    Retrying cannot help, so it is reported at once.
    """

    status_code = 503


class SchemaNotMigrated(PersistenceError):
    """The database schema is not the one this code was written for."""

    status_code = 503


class UpstreamChanged(RuntimeError):
    """An upstream internal the saver relies on is not the one it was written
    against. Raised when `upstream` is imported, so never while serving: the
    process does not start on an upgrade that would break it."""


class ThreadsNotPruned(PersistenceError, Conflict):
    """Threads retention left as they were because their rows cannot be read
    as LangGraph wrote them; `reasons` says why, by thread. The other threads
    of the batch were pruned. A 409: trying again cannot help, and clients
    retry every 5xx."""

    def __init__(self, reasons: Mapping[str, str]) -> None:
        self.reasons = dict(reasons)
        listed = "; ".join(f"thread {thread}: {why}" for thread, why in self.reasons.items())
        super().__init__(f"Not pruned, left as they were: {listed}.")
