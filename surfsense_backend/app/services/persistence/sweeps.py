"""Applying a retention policy across the database, a bounded batch of threads at a time.

Threads are visited in thread_id order with a keyset cursor, each pruned in
a transaction of its own, so a large backlog never holds many locks, a
thread that cannot be read is skipped (logged, reported) without stopping
the sweep, and a sweep can stop after `max_threads` and pick up the rest
next time.
"""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from app.services.persistence.pool import SaverPool
from app.services.persistence.retention import Policy, PruneReport, ThreadPruner, keep_newest, keep_since

_THREADS_WITH_OLD_SQL = """
SELECT DISTINCT thread_id FROM checkpoints
WHERE created_at < %s AND thread_id > %s
ORDER BY thread_id LIMIT %s
"""

_THREADS_OVER_SQL = """
SELECT thread_id FROM checkpoints
WHERE checkpoint_ns = '' AND thread_id > %s
GROUP BY thread_id HAVING count(*) > %s
ORDER BY thread_id LIMIT %s
"""


@dataclass(frozen=True)
class Sweep:
    """Which threads to visit and what to keep of each."""

    select_sql: str
    select_params: Callable[[str, int], tuple[object, ...]]
    policy: Policy


def older_than(cutoff: datetime) -> Sweep:
    """Checkpoints older than `cutoff` go; a thread's latest never does."""
    return Sweep(_THREADS_WITH_OLD_SQL, lambda after, n: (cutoff, after, n), keep_since(cutoff))


def beyond_newest(count: int) -> Sweep:
    """All but the newest `count` checkpoints of each thread go."""
    return Sweep(_THREADS_OVER_SQL, lambda after, n: (after, count, n), keep_newest(count))


async def candidate_threads(
    pool: SaverPool, sweep: Sweep, batch: int, limit: int | None
) -> AsyncIterator[str]:
    """The threads the sweep applies to, at most `limit` of them."""
    after, seen = "", 0
    while limit is None or seen < limit:
        size = batch if limit is None else min(batch, limit - seen)
        async with pool.connection() as conn:
            cursor = await conn.execute(sweep.select_sql, sweep.select_params(after, size))
            threads = [row["thread_id"] for row in await cursor.fetchall()]
        for thread_id in threads:
            yield thread_id
        if len(threads) < size:
            return
        seen, after = seen + len(threads), threads[-1]


async def run_sweep(
    pool: SaverPool, pruner: ThreadPruner, sweep: Sweep, *, batch: int = 200, limit: int | None = None
) -> PruneReport:
    """Prune every candidate thread: the checkpoints deleted, and the threads
    left as they were (logged, and the sweep goes on)."""
    report = PruneReport()
    async for thread_id in candidate_threads(pool, sweep, batch, limit):
        async with pool.connection() as conn:
            await pruner.prune_into(report, conn, thread_id, sweep.policy)
    return report
