"""Rows and bytes per table, and the largest conversations: `surfsense-db stats`."""

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

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
