"""What operators ask of the database: sizes, exports, erasure. Used by the CLI."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.models import Checkpoint, Conversation, Message, ThreadRun, User
from app.schemas.conversations import ConversationOut, MessageOut, RunOut
from app.services.auth.emails import normalize_email

TABLES = (
    "users",
    "conversations",
    "messages",
    "thread_runs",
    "checkpoints",
    "checkpoint_blobs",
    "checkpoint_writes",
    "deleted_threads",
)

# Bytes of each conversation's checkpoint rows, largest first.
_LARGEST_SQL = text(
    """
    SELECT conversation_id, sum(bytes) AS bytes FROM (
        SELECT conversation_id, pg_column_size(checkpoints.*) AS bytes FROM checkpoints
        WHERE conversation_id IS NOT NULL
        UNION ALL
        SELECT conversation_id, pg_column_size(checkpoint_blobs.*) FROM checkpoint_blobs
        WHERE conversation_id IS NOT NULL
        UNION ALL
        SELECT conversation_id, pg_column_size(checkpoint_writes.*) FROM checkpoint_writes
        WHERE conversation_id IS NOT NULL
    ) sizes
    GROUP BY conversation_id ORDER BY bytes DESC LIMIT :limit
    """
)


class UserNotFound(NotFound):
    def __init__(self, user_id: object = None) -> None:
        # No id: found gone by a write that referred to it (app.services.integrity).
        if user_id is None:
            super().__init__("The account was deleted while this request was served.")
        else:
            super().__init__(f"User {user_id} was not found.")


@dataclass(frozen=True)
class Stats:
    rows: dict[str, int]
    bytes: dict[str, int]
    largest: list[tuple[uuid.UUID, int]]


async def stats(session: AsyncSession, largest: int = 10) -> Stats:
    rows, sizes = {}, {}
    for table in TABLES:
        # Exact counts: the tables this is run on are what operators are sizing up.
        rows[table] = int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)  # noqa: S608
        sizes[table] = int(await session.scalar(text("SELECT pg_total_relation_size(:t)"), {"t": table}) or 0)
    top = (await session.execute(_LARGEST_SQL, {"limit": largest})).all()
    return Stats(rows, sizes, [(row.conversation_id, int(row.bytes)) for row in top])


async def export_conversation(session: AsyncSession, conversation_id: uuid.UUID) -> dict[str, Any]:
    """The conversation, its messages in order, and its runs with their feedback, as JSON-ready data."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"Conversation {conversation_id} was not found.")
    messages = await session.scalars(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
    )
    runs = await session.scalars(
        select(ThreadRun).where(ThreadRun.conversation_id == conversation_id).order_by(ThreadRun.started_at)
    )
    namespaces = await session.execute(
        select(Checkpoint.checkpoint_ns, func.count())
        .where(Checkpoint.conversation_id == conversation_id)
        .group_by(Checkpoint.checkpoint_ns)
        .order_by(Checkpoint.checkpoint_ns)
    )
    per_namespace = {ns: int(count) for ns, count in namespaces.all()}
    return {
        "conversation": {
            **ConversationOut.model_validate(conversation).model_dump(mode="json"),
            "user_id": str(conversation.user_id),
        },
        "messages": [MessageOut.model_validate(m).model_dump(mode="json") for m in messages],
        "runs": [RunOut.model_validate(r).model_dump(mode="json") for r in runs],
        "checkpoints": sum(per_namespace.values()),
        # The root graph's ("") and each subgraph's, by namespace.
        "checkpoint_namespaces": per_namespace,
    }


async def find_user(session: AsyncSession, email: str) -> uuid.UUID:
    """A user's id by their email address, spelled as they registered or not."""
    user_id = await session.scalar(select(User.id).where(User.email == normalize_email(email)))
    if user_id is None:
        raise UserNotFound(email)
    return user_id


async def delete_user(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Delete a user and, by cascade, everything of theirs; return their conversation count."""
    conversations = await session.scalar(
        select(func.count()).select_from(Conversation).where(Conversation.user_id == user_id)
    )
    deleted = await session.execute(delete(User).where(User.id == user_id).returning(User.id))
    if deleted.scalar_one_or_none() is None:
        raise UserNotFound(user_id)
    return int(conversations or 0)
