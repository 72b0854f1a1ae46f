"""Keeping this process's runs leased, and acting on what other processes left.

Every poll interval, while this process executes runs: one statement renews
all their leases and reads the cancels asked of them, so a cancel sent to any
process stops the run here within that interval. Every quarter lease, in any
process: one statement finds conversations needing someone (a run whose
lease ran out, or runs queued and none running), and their next queued run
is started here. A process that dies stops renewing; within a lease and a
quarter its runs are marked interrupted and the queue behind them moves on.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import session_scope
from app.observability.background import background_failed
from app.services.persistence import is_transient
from app.services.runs.handle import LOST
from app.services.runs.local import LocalRuns
from app.services.runs.repository import RunRepository

logger = logging.getLogger(__name__)

# Conversations acted on per scan; the next scan takes the rest.
SCAN_LIMIT = 50


class LeaseKeeper:
    def __init__(
        self,
        local: LocalRuns,
        statements: async_sessionmaker[AsyncSession],
        poll_interval: float,
        claim_next: Callable[[uuid.UUID], Awaitable[None]],
    ) -> None:
        self.local = local
        self.statements = statements
        self.poll_interval = poll_interval
        self.scan_interval = max(local.lease / 4, poll_interval)
        # Starts a conversation's next queued run here (the runner's).
        self.claim_next = claim_next
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="chat-leases")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_scan = loop.time()
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                if self.local.handles:
                    await self.renew()
                if loop.time() >= next_scan:
                    next_scan = loop.time() + self.scan_interval
                    await self.scan()
            except Exception as exc:
                # The next tick tries again; a lease is several ticks long.
                if is_transient(exc):
                    logger.info("could not keep the run leases: %s", type(exc).__name__)
                else:
                    background_failed(logger, "chat_leases", "could not keep the run leases", exc)

    async def renew(self) -> None:
        """Extend our leases; stop the runs asked to cancel, and those no longer ours."""
        handles = dict(self.local.handles)
        async with session_scope(self.statements) as session:
            held = await RunRepository(session).renew(self.local.owner, self.local.lease)
        for run_id, handle in handles.items():
            if run_id not in held:
                # Taken over (this process stalled past its lease) or deleted;
                # a run ending meanwhile has recorded its end already.
                if not handle.ending and handle.run.run_id in self.local.handles:
                    handle.stop(LOST)
            elif (action := held[run_id]) is not None:
                handle.stop(action)

    async def scan(self) -> None:
        async with self.statements() as session:
            conversations = await RunRepository(session).needing_attention(SCAN_LIMIT)
        for conversation_id in conversations:
            await self.claim_next(conversation_id)
