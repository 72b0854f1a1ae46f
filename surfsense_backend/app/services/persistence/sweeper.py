"""The background retention sweep, one process at a time.

Every PERSISTENCE_CHECKPOINT_CLEANUP_INTERVAL seconds: keep the newest
PERSISTENCE_MAX_CHECKPOINT_HISTORY checkpoints per conversation, delete
archived conversations past PERSISTENCE_ARCHIVE_TTL_DAYS, delete the stored
events of runs that ended PERSISTENCE_RUN_EVENTS_TTL_HOURS ago, and forget
tombstones old enough that no run can still be writing.

Several app processes may run a sweeper; a transaction-scoped advisory lock
lets one sweep at a time. `pg_try_advisory_xact_lock` never waits, so two
sweepers cannot deadlock, and it works behind PgBouncer in transaction mode,
where session-level advisory locks do not.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from app.observability.background import background_failed
from app.services.persistence.message_checkpointer import MessageCheckpointer
from app.services.persistence.retry import is_database_outage

logger = logging.getLogger(__name__)

# Any constant unique to this job among the app's advisory locks.
SWEEP_LOCK_KEY = 7_310_512_001
TOMBSTONE_DAYS = 7
# Event batches one sweep deletes at most.
RUN_EVENT_BATCH = 50_000

_EXPIRE_ARCHIVED_SQL = """
DELETE FROM conversations WHERE id IN (
    SELECT id FROM conversations
    WHERE archived AND updated_at < now() - make_interval(secs => %s * 86400)
    ORDER BY updated_at LIMIT %s
)
"""

# Batched like the other deletes: the rest go at the next sweep.
_EXPIRE_RUN_EVENTS_SQL = """
DELETE FROM run_events WHERE (run_id, seq) IN (
    SELECT e.run_id, e.seq FROM run_events e JOIN thread_runs r ON r.run_id = e.run_id
    WHERE r.finished_at < now() - make_interval(secs => %s * 3600)
    LIMIT %s
)
"""

_FORGET_TOMBSTONES_SQL = """
DELETE FROM deleted_threads WHERE deleted_at < now() - make_interval(days => %s)
"""


@dataclass(frozen=True)
class SweepReport:
    checkpoints_deleted: int
    archived_conversations_deleted: int
    run_events_deleted: int
    tombstones_forgotten: int


class RetentionSweeper:
    def __init__(self, checkpointer: MessageCheckpointer) -> None:
        self.checkpointer = checkpointer
        self.config = checkpointer.config
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def sweep_once(self) -> SweepReport | None:
        """One sweep; None when another process holds the lock."""
        pool = self.checkpointer.pool
        if pool is None:
            return None
        async with pool.connection() as lock, lock.transaction():
            held = await (
                await lock.execute("SELECT pg_try_advisory_xact_lock(%s) AS held", (SWEEP_LOCK_KEY,))
            ).fetchone()
            if not held or not held["held"]:
                logger.info("another process is sweeping; skipped")
                return None
            report = SweepReport(
                checkpoints_deleted=await self.checkpointer.enforce_max_history(
                    limit=self.config.retention_batch_threads
                ),
                archived_conversations_deleted=await self._expire_archived(),
                run_events_deleted=await self._execute(
                    _EXPIRE_RUN_EVENTS_SQL,
                    (self.config.run_events_ttl_hours, RUN_EVENT_BATCH),
                ),
                tombstones_forgotten=await self._execute(_FORGET_TOMBSTONES_SQL, (TOMBSTONE_DAYS,)),
            )
        logger.info(
            "retention sweep: %d checkpoint(s), %d archived conversation(s), %d run event batch(es), "
            "%d tombstone(s) removed",
            report.checkpoints_deleted,
            report.archived_conversations_deleted,
            report.run_events_deleted,
            report.tombstones_forgotten,
        )
        return report

    async def _expire_archived(self) -> int:
        if self.config.archive_ttl_days is None:
            return 0
        return await self._execute(
            _EXPIRE_ARCHIVED_SQL, (self.config.archive_ttl_days, self.config.retention_batch_threads)
        )

    async def _execute(self, sql: str, params: tuple[object, ...]) -> int:
        pool = self.checkpointer.pool
        assert pool is not None  # noqa: S101 - sweep_once checked it
        async with pool.connection() as conn:
            return (await conn.execute(sql, params)).rowcount

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.sweep_once()
            except Exception as exc:
                # A sweep that failed is tried again at the next interval: one
                # bad thread or statement must not end retention for good.
                if is_database_outage(exc):
                    logger.warning("retention sweep skipped, database unavailable: %s", type(exc).__name__)
                else:
                    background_failed(
                        logger, "retention_sweep", "retention sweep failed; retrying next interval", exc
                    )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.checkpoint_cleanup_interval):
                    await self._stopping.wait()

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="retention-sweeper")

    async def stop(self) -> None:
        """Stop, also when the cancellation is lost: Python 3.11's wait_for,
        which database drivers use, can swallow one that lands as its inner
        call completes, and the sweeper then went back to sleep for an hour."""
        if self._task is not None:
            self._stopping.set()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
