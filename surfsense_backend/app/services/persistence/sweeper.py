"""A background sweep on the saver's pool: every
PERSISTENCE_CHECKPOINT_CLEANUP_INTERVAL seconds, one process at a time.

What a sweep deletes is its subclass's (`app.services.retention`): this
module knows the schedule and the lock, not the tables.

Several app processes may run a sweeper; a transaction-scoped advisory lock
lets one sweep at a time. `pg_try_advisory_xact_lock` never waits, so two
sweepers cannot deadlock, and it works behind PgBouncer in transaction mode,
where session-level advisory locks do not. The lock's transaction stays open
on one of the pool's connections until `sweep()` returns, so all of the work
is guarded, whichever connections or sessions it runs on.
"""

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar

from app.observability.background import background_failed
from app.services.persistence.message_checkpointer import MessageCheckpointer
from app.services.persistence.retry import is_database_outage

logger = logging.getLogger(__name__)

Report = TypeVar("Report")


class Sweeper(ABC, Generic[Report]):
    # The task's name, in logs and in surfsense_background_failures_total.
    job: ClassVar[str]
    # Any constant unique to this job among the app's advisory locks.
    lock_key: ClassVar[int]

    def __init__(self, checkpointer: MessageCheckpointer) -> None:
        self.checkpointer = checkpointer
        self.config = checkpointer.config
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @abstractmethod
    async def sweep(self) -> Report:
        """One sweep's work, run while this process holds the lock."""

    async def sweep_once(self) -> Report | None:
        """One sweep; None when another process holds the lock."""
        pool = self.checkpointer.pool
        if pool is None:
            return None
        async with pool.connection() as lock, lock.transaction():
            held = await (
                await lock.execute("SELECT pg_try_advisory_xact_lock(%s) AS held", (self.lock_key,))
            ).fetchone()
            if not held or not held["held"]:
                logger.info("another process is running %s; skipped", self.job)
                return None
            return await self.sweep()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.sweep_once()
            except Exception as exc:
                # A sweep that failed is tried again at the next interval: one
                # bad thread or statement must not end retention for good.
                if is_database_outage(exc):
                    logger.warning("%s skipped, database unavailable: %s", self.job, type(exc).__name__)
                else:
                    background_failed(logger, self.job, f"{self.job} failed; retrying next interval", exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.checkpoint_cleanup_interval):
                    await self._stopping.wait()

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name=self.job)

    async def stop(self) -> None:
        """Stop, also when the cancellation is lost: Python 3.11's wait_for,
        which database drivers use, can swallow one that lands as its inner
        call completes, and the sweeper then went back to sleep for an hour."""
        if self._task is not None:
            self._stopping.set()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
