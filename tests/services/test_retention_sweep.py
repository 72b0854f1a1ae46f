"""The background retention sweep: one at a time, bounded, and what it removes."""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.agents.chat_graph import ChatAgent
from app.agents.local_model import LocalChatModel
from app.config import PersistenceConfig
from app.models import Checkpoint, Conversation, DeletedThread, RunEvent, RunStatus, ThreadRun, User
from app.services.persistence import MessageCheckpointer
from app.services.retention import RetentionSweeper, SweepReport
from tests.conditions import until, waiting_behind
from tests.conftest import Owner, opened_checkpointer
from tests.graphs import reply_to


@pytest.fixture
async def second_checkpointer(
    database_url: str, persistence_config: PersistenceConfig
) -> AsyncIterator[MessageCheckpointer]:
    """Another process's MessageCheckpointer: its own pool on the same database."""
    async with opened_checkpointer(database_url, persistence_config) as opened:
        yield opened


async def _checkpoints(sessions: async_sessionmaker[AsyncSession], thread: str) -> int:
    async with sessions() as s:
        return int(
            await s.scalar(select(func.count()).select_from(Checkpoint).where(Checkpoint.thread_id == thread))
            or 0
        )


class TestOneSweepAtATime:
    async def test_two_sweepers_never_both_delete_and_never_deadlock(
        self,
        checkpointer: MessageCheckpointer,
        second_checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, conversation = await make_conversation()
        agent = ChatAgent(LocalChatModel(), await checkpointer.get_saver())
        for turn in range(10):
            await reply_to(agent.graph, conversation.thread_id, f"q{turn}")
        config = checkpointer.config.model_copy(update={"max_checkpoint_history": 6})
        checkpointer.config = second_checkpointer.config = config

        # The first sweeper stops inside its sweep, holding the lock, until let go.
        inside, let_go = asyncio.Event(), asyncio.Event()

        async def held_rebase(thread_id: str, ns: str, checkpoint_id: str) -> dict[str, Any]:
            inside.set()
            await let_go.wait()
            return await agent.values_at(thread_id, ns, checkpoint_id)

        checkpointer.rebase = held_rebase
        second_checkpointer.rebase = agent.values_at
        first = asyncio.create_task(RetentionSweeper(checkpointer, committed).sweep_once())
        try:
            await inside.wait()
            # The guard turns a deadlock into a failure instead of a hang.
            assert (
                await asyncio.wait_for(
                    RetentionSweeper(second_checkpointer, committed).sweep_once(), timeout=30
                )
                is None
            )
            assert await _checkpoints(committed, conversation.thread_id) == 30
        finally:
            let_go.set()
            report = await asyncio.wait_for(first, timeout=30)
        assert report is not None
        assert report.checkpoints_deleted >= 24
        assert await _checkpoints(committed, conversation.thread_id) == 6
        # Once the first is done, the lock is free again.
        assert await RetentionSweeper(second_checkpointer, committed).sweep_once() is not None

    async def test_the_domain_deletes_run_under_the_lock_and_delete_each_row_once(
        self,
        checkpointer: MessageCheckpointer,
        second_checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
        engine: AsyncEngine,
    ) -> None:
        _, expired = await make_conversation("archived long ago")
        user, live = await make_conversation("with runs")
        await _archive(committed, expired, days_ago=40)
        old_run = await _ended_run(committed, user, live, hours_ago=48, batches=3)
        recent_run = await _ended_run(committed, user, live, hours_ago=1, batches=2)
        config = checkpointer.config.model_copy(update={"archive_ttl_days": 30})
        checkpointer.config = second_checkpointer.config = config
        archived, events = await _expired(committed)
        assert archived >= 1
        assert events >= 3

        # The test holds the expired conversation's row: the first sweep's
        # delete of it waits, inside the sweep, until let go.
        async with engine.connect() as holder:
            await holder.execute(
                select(Conversation.id).where(Conversation.id == expired.id).with_for_update()
            )
            first = asyncio.create_task(RetentionSweeper(checkpointer, committed).sweep_once())
            try:
                await until(lambda: waiting_behind(engine, holder), "the sweep's delete waiting for the row")
                second = RetentionSweeper(second_checkpointer, committed).sweep_once()
                assert await asyncio.wait_for(second, timeout=30) is None
            finally:
                await holder.rollback()
            report = await asyncio.wait_for(first, timeout=30)

        assert report is not None
        assert (report.archived_conversations_deleted, report.run_events_deleted) == (archived, events)
        async with committed() as s:
            assert await s.get(Conversation, expired.id) is None
            left = await s.execute(
                select(RunEvent.run_id, func.count())
                .where(RunEvent.run_id.in_([old_run, recent_run]))
                .group_by(RunEvent.run_id)
            )
            assert dict(left.tuples().all()) == {recent_run: 2}
        # Nothing was left for a second sweep to delete again.
        again = await RetentionSweeper(second_checkpointer, committed).sweep_once()
        assert again is not None
        assert (again.archived_conversations_deleted, again.run_events_deleted) == (0, 0)


async def _archive(
    sessions: async_sessionmaker[AsyncSession], conversation: Conversation, days_ago: int
) -> None:
    async with sessions() as s:
        await s.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id)
            .values(archived=True, updated_at=func.now() - text(f"interval '{days_ago} days'"))
        )
        await s.commit()


async def _ended_run(
    sessions: async_sessionmaker[AsyncSession],
    user: User,
    conversation: Conversation,
    hours_ago: int,
    batches: int,
) -> uuid.UUID:
    """A run that ended `hours_ago`, with `batches` of stored events."""
    async with sessions() as s:
        run = ThreadRun(
            conversation_id=conversation.id,
            user_id=user.id,
            prompt="hello",
            status=RunStatus.SUCCEEDED,
            finished_at=datetime.now(UTC) - timedelta(hours=hours_ago),
        )
        s.add(run)
        await s.flush()
        s.add_all(
            RunEvent(run_id=run.run_id, seq=seq, events=[{"seq": seq}]) for seq in range(1, batches + 1)
        )
        await s.commit()
        return run.run_id


async def _expired(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """What a sweep with the default TTLs and a 30-day archive TTL should delete,
    counted before it: archived conversations, and the event batches of ended
    runs (those of the archived conversations go with them, by cascade)."""
    archived = "c.archived AND c.updated_at < now() - interval '30 days'"
    async with sessions() as s:
        conversations = await s.scalar(text(f"SELECT count(*) FROM conversations c WHERE {archived}"))
        events = await s.scalar(
            text(
                "SELECT count(*) FROM run_events e JOIN thread_runs r ON r.run_id = e.run_id "
                "JOIN conversations c ON c.id = r.conversation_id "
                f"WHERE r.finished_at < now() - interval '24 hours' AND NOT ({archived})"
            )
        )
    return int(conversations or 0), int(events or 0)


class TestWhatASweepRemoves:
    async def test_archived_conversations_past_their_ttl(
        self,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, expired = await make_conversation("archived long ago")
        _, recent = await make_conversation("archived today")
        _, active = await make_conversation("old but not archived")
        async with committed() as s:
            for conversation, archived, days in ((expired, True, 40), (recent, True, 0), (active, False, 40)):
                await s.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation.id)
                    .values(archived=archived, updated_at=func.now() - text(f"interval '{days} days'"))
                )
            await s.commit()
        checkpointer.config = checkpointer.config.model_copy(update={"archive_ttl_days": 30})

        report = await RetentionSweeper(checkpointer, committed).sweep_once()

        assert report is not None
        assert report.archived_conversations_deleted >= 1
        async with committed() as s:
            left = set(
                await s.scalars(
                    select(Conversation.id).where(Conversation.id.in_([expired.id, recent.id, active.id]))
                )
            )
        assert left == {recent.id, active.id}

    async def test_without_a_ttl_archived_conversations_stay(
        self,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, archived = await make_conversation()
        async with committed() as s:
            await s.execute(
                update(Conversation)
                .where(Conversation.id == archived.id)
                .values(archived=True, updated_at=func.now() - text("interval '4000 days'"))
            )
            await s.commit()
        await RetentionSweeper(checkpointer, committed).sweep_once()
        async with committed() as s:
            assert await s.get(Conversation, archived.id) is not None

    async def test_old_tombstones_are_forgotten(
        self, checkpointer: MessageCheckpointer, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        async with committed() as s:
            s.add_all(
                [
                    DeletedThread(
                        thread_id="old-tombstone", deleted_at=func.now() - text("interval '8 days'")
                    ),
                    DeletedThread(thread_id="new-tombstone"),
                ]
            )
            await s.commit()
        await RetentionSweeper(checkpointer, committed).sweep_once()
        async with committed() as s:
            left = set(
                await s.scalars(
                    select(DeletedThread.thread_id).where(DeletedThread.thread_id.like("%-tombstone"))
                )
            )
            await s.execute(delete(DeletedThread).where(DeletedThread.thread_id == "new-tombstone"))
            await s.commit()
        assert left == {"new-tombstone"}


class TestFailures:
    async def test_a_failed_sweep_is_logged_counted_and_the_next_one_runs(
        self,
        checkpointer: MessageCheckpointer,
        committed: async_sessionmaker[AsyncSession],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        failures_before = (
            REGISTRY.get_sample_value("surfsense_background_failures_total", {"task": "retention_sweep"})
            or 0.0
        )
        swept_again = asyncio.Event()

        class FailingOnce(RetentionSweeper):
            sweeps = 0

            async def sweep_once(self) -> SweepReport | None:
                self.sweeps += 1
                if self.sweeps == 1:
                    raise RuntimeError("a bug in the first sweep")
                report = await super().sweep_once()
                swept_again.set()
                return report

        checkpointer.config = checkpointer.config.model_copy(update={"checkpoint_cleanup_interval": 0.01})
        sweeper = FailingOnce(checkpointer, committed)
        sweeper.start()
        try:
            await asyncio.wait_for(swept_again.wait(), timeout=60)
        finally:
            await sweeper.stop()
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1
        assert errors[0].exc_info is not None
        assert str(errors[0].exc_info[1]) == "a bug in the first sweep"
        assert (
            REGISTRY.get_sample_value("surfsense_background_failures_total", {"task": "retention_sweep"})
            == failures_before + 1
        )

    async def test_stop_ends_it_when_a_sweep_loses_the_cancellation(
        self, checkpointer: MessageCheckpointer, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        sweeping = asyncio.Event()

        class LosesCancellation(RetentionSweeper):
            async def sweep_once(self) -> SweepReport | None:
                sweeping.set()
                # As Python 3.11's wait_for can, inside a driver: the
                # cancellation lands, and is swallowed.
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.Event().wait()
                return None

        sweeper = LosesCancellation(checkpointer, committed)
        sweeper.start()
        await sweeping.wait()
        # A bound against the hang this guards against: the next sweep is an hour away.
        async with asyncio.timeout(60):
            await sweeper.stop()
