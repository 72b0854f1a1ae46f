"""The background retention sweep: what the app deletes on its own, each part
by the owner of its table.

Every PERSISTENCE_CHECKPOINT_CLEANUP_INTERVAL seconds: keep the newest
PERSISTENCE_MAX_CHECKPOINT_HISTORY checkpoints per conversation (the
checkpointer), delete archived conversations past PERSISTENCE_ARCHIVE_TTL_DAYS
(`ConversationRepository`), delete the stored events of runs that ended
PERSISTENCE_RUN_EVENTS_TTL_HOURS ago (`RunRepository`), delete the store's
items past their TTL (`app.services.store`: reads never return them before), and
forget tombstones old enough that no run can still be writing (the checkpointer).

One process sweeps at a time (`Sweeper`'s advisory lock), and every part
runs inside it: the domain deletes run in sessions of their own while the
lock's transaction is still open. Each part is a bounded batch in a
transaction of its own, so a sweep holds no lock long and a part that fails
leaves the others' work done.
"""

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import get_store_settings
from app.db import session_scope
from app.services.conversations.repository import ConversationRepository
from app.services.persistence import MessageCheckpointer
from app.services.persistence.sweeper import Sweeper
from app.services.runs.repository import RunRepository
from app.services.store import delete_expired

logger = logging.getLogger(__name__)

TOMBSTONE_DAYS = 7
# Event batches one sweep deletes at most.
RUN_EVENT_BATCH = 50_000


@dataclass(frozen=True)
class SweepReport:
    checkpoints_deleted: int
    archived_conversations_deleted: int
    run_events_deleted: int
    store_items_expired: int
    tombstones_forgotten: int


class RetentionSweeper(Sweeper[SweepReport]):
    job = "retention_sweep"
    lock_key = 7_310_512_001

    def __init__(self, checkpointer: MessageCheckpointer, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(checkpointer)
        self.sessions = sessions

    async def sweep(self) -> SweepReport:
        report = SweepReport(
            checkpoints_deleted=await self.checkpointer.enforce_max_history(
                limit=self.config.retention_batch_threads
            ),
            archived_conversations_deleted=await self._expire_archived(),
            run_events_deleted=await self._expire_run_events(),
            store_items_expired=await self._expire_store_items(),
            tombstones_forgotten=await self.checkpointer.forget_tombstones(TOMBSTONE_DAYS),
        )
        logger.info(
            "retention sweep: %d checkpoint(s), %d archived conversation(s), %d run event batch(es), "
            "%d expired store item(s), %d tombstone(s) removed",
            report.checkpoints_deleted,
            report.archived_conversations_deleted,
            report.run_events_deleted,
            report.store_items_expired,
            report.tombstones_forgotten,
        )
        return report

    async def _expire_archived(self) -> int:
        if self.config.archive_ttl_days is None:
            return 0
        async with session_scope(self.sessions) as session:
            return await ConversationRepository.expire_archived(
                session, self.config.archive_ttl_days, self.config.retention_batch_threads
            )

    async def _expire_run_events(self) -> int:
        async with session_scope(self.sessions) as session:
            return await RunRepository(session).expire_events(
                self.config.run_events_ttl_hours, RUN_EVENT_BATCH
            )

    async def _expire_store_items(self) -> int:
        pool = self.checkpointer.pool
        if pool is None:
            return 0
        return await delete_expired(pool, get_store_settings().sweep_batch)
