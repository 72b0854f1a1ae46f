"""Integrity errors a race between requests causes, as the domain errors they mean.

A request reads a row, then writes one that refers to it (a fork, a message,
a run's events); another request may delete the row between the two, or
take the same key. PostgreSQL's constraint then stops the write and names
itself: this table says what that means for the client. One engine event
translates them for every statement of every repository, so no route meets
an IntegrityError (decision 0016). Constraints not listed stay IntegrityError:
their owners map them where they know more (a registration's email, a
thread's chosen id).
"""

from collections.abc import Callable

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import AppError
from app.services.assistants.errors import AssistantNotFound
from app.services.auth.errors import UserNotFound
from app.services.conversations.errors import RunInProgress, RunLost, RunNotFound
from app.services.persistence import ConversationNotFound

FOREIGN_KEY_VIOLATION = "23503"
UNIQUE_VIOLATION = "23505"

# (SQLSTATE, constraint): the domain error, with no key (the statement's
# values are hidden from errors and logs, and the caller knows which it sent).
RACES: dict[tuple[str, str], Callable[[], AppError]] = {
    # The conversation was deleted: a fork or copy of it, a message, a run, a
    # note written into it.
    **{
        (FOREIGN_KEY_VIOLATION, f"{table}_conversation_id_fkey"): ConversationNotFound
        for table in (
            "thread_runs",
            "messages",
            "notes",
            "checkpoints",
            "checkpoint_blobs",
            "checkpoint_writes",
        )
    },
    (FOREIGN_KEY_VIOLATION, "conversations_forked_from_id_fkey"): ConversationNotFound,
    # The assistant a new conversation (or a fork) keeps was deleted meanwhile.
    (FOREIGN_KEY_VIOLATION, "conversations_stored_assistant_id_fkey"): AssistantNotFound,
    # The run was deleted (rolled back, or its conversation deleted): its
    # messages or events written after.
    (FOREIGN_KEY_VIOLATION, "messages_run_id_fkey"): RunNotFound,
    (FOREIGN_KEY_VIOLATION, "run_events_run_id_fkey"): RunNotFound,
    # The user was deleted (`surfsense delete-user`) while a request of theirs wrote.
    **{
        (FOREIGN_KEY_VIOLATION, f"{table}_user_id_fkey"): UserNotFound
        for table in ("conversations", "thread_runs", "checkpoints", "access_tokens", "notes")
    },
    # A second run running in one conversation: admission prevents it under
    # the conversation's lock; should anything else start one, it is a conflict.
    (UNIQUE_VIOLATION, "ix_thread_runs_running_conversation_id"): RunInProgress,
    # Another process stored this run's end (its lease ran out): it was taken over.
    (UNIQUE_VIOLATION, "run_events_pkey"): RunLost,
}


def race_error(exc: BaseException) -> AppError | None:
    """The domain error an integrity error from a race means; None for any other error."""
    cause = exc if isinstance(exc, asyncpg.PostgresError) else exc.__cause__
    if not isinstance(cause, asyncpg.PostgresError):
        return None
    make = RACES.get((str(cause.sqlstate), str(getattr(cause, "constraint_name", None))))
    return make() if make is not None else None


def _translate(context: ExceptionContext) -> BaseException | None:
    return race_error(context.original_exception)


def install_race_errors(engine: AsyncEngine) -> None:
    """Raise the domain error in place of the integrity errors listed in RACES."""
    event.listen(engine.sync_engine, "handle_error", _translate)
