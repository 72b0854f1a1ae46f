"""Removing checkpoints that are no longer needed, without breaking a thread.

A thread's newest checkpoint in each namespace is its state and always stays.
An older checkpoint goes with its pending writes, and so do the blobs that no
remaining checkpoint refers to. Threads whose messages live in a DeltaChannel
rebuild state from the chain of older checkpoints, so they are left whole.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from langgraph.checkpoint.postgres.base import PRUNE_DELTA_THREADS_SQL
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from app.services.persistence.pool import SaverPool

logger = logging.getLogger(__name__)

_THREADS_WITH_OLD_SQL = """
SELECT DISTINCT thread_id FROM checkpoints
WHERE created_at < %s AND thread_id > %s
ORDER BY thread_id LIMIT %s
"""

_DELETE_OLD_SQL = """
WITH heads AS (
    SELECT DISTINCT ON (checkpoint_ns) checkpoint_ns, checkpoint_id
    FROM checkpoints WHERE thread_id = %(thread)s
    ORDER BY checkpoint_ns, checkpoint_id DESC
)
DELETE FROM checkpoints c
WHERE c.thread_id = %(thread)s AND c.created_at < %(cutoff)s
  AND NOT EXISTS (
      SELECT 1 FROM heads h
      WHERE h.checkpoint_ns = c.checkpoint_ns AND h.checkpoint_id = c.checkpoint_id
  )
RETURNING c.checkpoint_ns, c.checkpoint_id, c.checkpoint -> 'channel_versions' AS versions
"""

_DELETE_WRITES_SQL = """
DELETE FROM checkpoint_writes
WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = ANY(%s)
"""

_UNLINK_PARENTS_SQL = """
UPDATE checkpoints SET parent_checkpoint_id = NULL
WHERE thread_id = %s AND checkpoint_ns = %s AND parent_checkpoint_id = ANY(%s)
"""

_REFERENCED_SQL = """
SELECT DISTINCT v.key AS channel, v.value AS version
FROM checkpoints c CROSS JOIN LATERAL jsonb_each_text(c.checkpoint -> 'channel_versions') AS v
WHERE c.thread_id = %s AND c.checkpoint_ns = %s
"""

_DELETE_BLOBS_SQL = """
DELETE FROM checkpoint_blobs
WHERE thread_id = %s AND checkpoint_ns = %s AND channel = %s AND version = ANY(%s)
"""

_THREAD_BATCH = 500


def _unreferenced(freed: Iterable[tuple[str, str]], referenced: set[tuple[str, str]]) -> dict[str, list[str]]:
    garbage: dict[str, list[str]] = defaultdict(list)
    for channel, version in set(freed) - referenced:
        garbage[channel].append(version)
    return garbage


async def _prune_thread(conn: AsyncConnection[DictRow], thread_id: str, cutoff: datetime) -> int:
    """One thread's old checkpoints, writes and orphaned blobs, in one transaction."""
    async with conn.transaction():
        rows = await (await conn.execute(_DELETE_OLD_SQL, {"thread": thread_id, "cutoff": cutoff})).fetchall()
        by_ns: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_ns[row["checkpoint_ns"]].append(row)
        for ns, deleted in by_ns.items():
            ids = [row["checkpoint_id"] for row in deleted]
            await conn.execute(_DELETE_WRITES_SQL, (thread_id, ns, ids))
            await conn.execute(_UNLINK_PARENTS_SQL, (thread_id, ns, ids))
            freed = [(ch, v) for row in deleted for ch, v in (row["versions"] or {}).items()]
            cursor = await conn.execute(_REFERENCED_SQL, (thread_id, ns))
            referenced = {(r["channel"], r["version"]) for r in await cursor.fetchall()}
            for channel, versions in _unreferenced(freed, referenced).items():
                await conn.execute(_DELETE_BLOBS_SQL, (thread_id, ns, channel, versions))
    return len(rows)


async def delete_checkpoints_before(pool: SaverPool, cutoff: datetime) -> int:
    """Delete every checkpoint older than `cutoff` that is not a thread's latest.

    Works thread by thread, each in its own short transaction, so a large
    backlog never holds locks on more than one thread at a time.
    """
    deleted, after = 0, ""
    async with pool.connection() as conn:
        while True:
            cursor = await conn.execute(_THREADS_WITH_OLD_SQL, (cutoff, after, _THREAD_BATCH))
            threads = [row["thread_id"] for row in await cursor.fetchall()]
            if not threads:
                return deleted
            cursor = await conn.execute(PRUNE_DELTA_THREADS_SQL, (threads, threads))
            delta = {row["thread_id"] for row in await cursor.fetchall()}
            if delta:
                logger.info("left %d DeltaChannel thread(s) whole: their state needs the chain", len(delta))
            for thread_id in threads:
                if thread_id not in delta:
                    deleted += await _prune_thread(conn, thread_id, cutoff)
            after = threads[-1]
