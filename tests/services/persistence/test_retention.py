"""delete_old_checkpoints: old history goes, the latest state and what it needs stay."""

import uuid

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, empty_checkpoint
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.agents.chat_graph import ChatAgent
from app.agents.local_model import LocalChatModel
from app.models import Checkpoint, CheckpointBlob, CheckpointWrite
from app.services.persistence import MessageCheckpointer
from tests.conftest import Owner
from tests.graphs import chat, echo_graph, reply_to

# Blobs that no remaining checkpoint of their thread and namespace refers to.
ORPHAN_BLOBS_SQL = text(
    """
    SELECT count(*) FROM checkpoint_blobs b
    WHERE b.thread_id = :thread AND NOT EXISTS (
        SELECT 1 FROM checkpoints c
        WHERE c.thread_id = b.thread_id AND c.checkpoint_ns = b.checkpoint_ns
          AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version
    )
    """
)
ORPHAN_WRITES_SQL = text(
    """
    SELECT count(*) FROM checkpoint_writes w
    WHERE w.thread_id = :thread AND NOT EXISTS (
        SELECT 1 FROM checkpoints c
        WHERE c.thread_id = w.thread_id AND c.checkpoint_ns = w.checkpoint_ns
          AND c.checkpoint_id = w.checkpoint_id
    )
    """
)


async def _age(sessions: async_sessionmaker[AsyncSession], thread: str, days: int) -> None:
    async with sessions() as s:
        await s.execute(
            update(Checkpoint)
            .where(Checkpoint.thread_id == thread)
            .values(created_at=func.now() - text(f"interval '{days} days'"))
        )
        await s.commit()


async def _count(sessions: async_sessionmaker[AsyncSession], statement: object, thread: str) -> int:
    async with sessions() as s:
        return int(await s.scalar(statement, {"thread": thread}) or 0)  # type: ignore[call-overload]


def _checkpoints(thread: str) -> object:
    return select(func.count()).select_from(Checkpoint).where(Checkpoint.thread_id == thread)


class TestDeleteOldCheckpoints:
    async def test_keeps_the_latest_and_what_it_needs(
        self, checkpointer: MessageCheckpointer, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        thread = f"old-{uuid.uuid4()}"
        graph = echo_graph(await checkpointer.get_saver())
        for turn in range(4):
            await chat(graph, thread, f"turn {turn}")
        await _age(committed, thread, days=40)
        await chat(graph, thread, "recent")  # three fresh checkpoints
        assert await _count(committed, _checkpoints(thread), thread) == 15

        deleted = await checkpointer.delete_old_checkpoints(days=30)

        # All 12 aged ones: the latest is one of the fresh three.
        assert deleted == 12
        assert await _count(committed, _checkpoints(thread), thread) == 3
        assert await _count(committed, ORPHAN_BLOBS_SQL, thread) == 0
        assert await _count(committed, ORPHAN_WRITES_SQL, thread) == 0
        # The conversation loads in full and continues.
        messages = await chat(graph, thread, "after pruning")
        assert messages[-2:] == ["after pruning", "echo: after pruning"]
        assert messages[0::2][:5] == ["turn 0", "turn 1", "turn 2", "turn 3", "recent"]

    async def test_never_deletes_the_only_state_of_an_idle_thread(
        self, checkpointer: MessageCheckpointer, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        thread = f"idle-{uuid.uuid4()}"
        graph = echo_graph(await checkpointer.get_saver())
        await chat(graph, thread, "long ago")
        await _age(committed, thread, days=400)

        await checkpointer.delete_old_checkpoints(days=1)

        assert await _count(committed, _checkpoints(thread), thread) == 1
        state = await graph.aget_state({"configurable": {"thread_id": thread}})
        assert [m.content for m in state.values["messages"]] == ["long ago", "echo: long ago"]

    async def test_counts_and_blob_sql_see_real_rows(
        self,
        checkpointer: MessageCheckpointer,
        committed: async_sessionmaker[AsyncSession],
        database_url: str,
    ) -> None:
        # The orphan queries above must be able to find an orphan.
        thread = f"orphan-{uuid.uuid4()}"
        await chat(echo_graph(await checkpointer.get_saver()), thread, "x")
        async with committed() as s:
            await s.execute(
                insert(CheckpointBlob).values(
                    thread_id=thread, checkpoint_ns="", channel="messages", version="zzz", type="empty"
                )
            )
            await s.execute(
                insert(CheckpointWrite).values(
                    thread_id=thread, checkpoint_id="gone", task_id="t", idx=0, channel="c", blob=b""
                )
            )
            await s.commit()
        assert await _count(committed, ORPHAN_BLOBS_SQL, thread) == 1
        assert await _count(committed, ORPHAN_WRITES_SQL, thread) == 1

    async def test_keeps_the_delta_chain_a_kept_checkpoint_is_rebuilt_from(
        self, checkpointer: MessageCheckpointer, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        # No graph to rebase with: older checkpoints stay back to a snapshot.
        thread = f"delta-{uuid.uuid4()}"
        graph = echo_graph(await checkpointer.get_saver(), delta=True)
        for turn in range(6):
            await chat(graph, thread, f"turn {turn}")
        assert await _count(committed, _checkpoints(thread), thread) == 18

        deleted = await checkpointer.enforce_max_history(keep=2)

        remaining = await _count(committed, _checkpoints(thread), thread)
        assert deleted > 0
        assert 2 < remaining < 18
        assert await _count(committed, ORPHAN_WRITES_SQL, thread) == 0
        state = await graph.aget_state({"configurable": {"thread_id": thread}})
        assert [m.content for m in state.values["messages"]][0::2] == [f"turn {t}" for t in range(6)]
        messages = await chat(graph, thread, "still whole")
        assert messages[0::2] == [*(f"turn {t}" for t in range(6)), "still whole"]

    async def test_max_history_on_a_delta_conversation_keeps_exactly_that_many(
        self,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, conversation = await make_conversation()
        agent = ChatAgent(LocalChatModel(), await checkpointer.get_saver())
        checkpointer.rebase = agent.values_at
        thread = conversation.thread_id

        for turn in range(100):
            await reply_to(agent.graph, thread, f"question {turn}")
        assert await _count(committed, _checkpoints(thread), thread) == 300

        await checkpointer.enforce_max_history(keep=50)

        assert await _count(committed, _checkpoints(thread), thread) == 50
        assert await _count(committed, ORPHAN_BLOBS_SQL, thread) == 0
        assert await _count(committed, ORPHAN_WRITES_SQL, thread) == 0
        reply = await reply_to(agent.graph, thread, "after pruning")
        assert reply.text == "Reply 101: you said “after pruning”."
        values = await agent.state_at(thread, reply.checkpoint_id)
        assert values is not None
        assert [m.text for m in values["messages"]][0:4:2] == ["question 0", "question 1"]
        assert len(values["messages"]) == 202

    async def test_refuses_negative_days(self, checkpointer: MessageCheckpointer) -> None:
        with pytest.raises(ValueError, match="negative"):
            await checkpointer.delete_old_checkpoints(days=-1)


class TestNumericVersions:
    async def test_blobs_with_json_number_versions_are_kept_while_referenced(
        self, checkpointer: MessageCheckpointer, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        # LangGraph allows integer channel versions; blob rows hold them as text.
        saver = await checkpointer.get_saver()
        thread = f"numeric-{uuid.uuid4()}"
        parent = None
        # Three checkpoints, all at version 1 of "notes": one blob, written by the first.
        for step in range(3):
            checkpoint = empty_checkpoint()
            checkpoint["channel_values"] = {"notes": ["n0"]}
            checkpoint["channel_versions"] = {"notes": 1}
            config: RunnableConfig = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
            if parent:
                config["configurable"]["checkpoint_id"] = parent
            new_versions: ChannelVersions = {"notes": 1} if step == 0 else {}
            stored = await saver.aput(config, checkpoint, {"step": step}, new_versions)
            parent = stored["configurable"]["checkpoint_id"]

        await checkpointer.enforce_max_history(keep=1)

        latest = await saver.aget_tuple({"configurable": {"thread_id": thread}})
        assert latest is not None
        assert latest.checkpoint["channel_values"]["notes"] == ["n0"]
        assert await _count(committed, _checkpoints(thread), thread) == 1
