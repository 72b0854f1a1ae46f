"""The pooled saver has no instance-wide lock, and stays correct without it."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg.types.json import Jsonb

from app.config import psycopg_conninfo
from app.services.persistence import MessageCheckpointer
from tests.graphs import chat, echo_graph


def _config(thread_id: str, checkpoint_id: str | None = None) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


@pytest.fixture
async def blocker(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A connection that can hold a row lock inside an open transaction."""
    async with await psycopg.AsyncConnection.connect(psycopg_conninfo(database_url)) as conn:
        yield conn


async def _wait_until_blocked(conn: psycopg.AsyncConnection[Any], blocker_pid: int) -> None:
    """Until some backend waits for a lock that `blocker_pid` holds."""
    for _ in range(500):
        cursor = await conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (blocker_pid,)
        )
        row = await cursor.fetchone()
        if row is not None and row[0] > 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the first write never blocked on the held row")


async def _put_while_another_thread_is_blocked(
    saver: AsyncPostgresSaver, blocker: psycopg.AsyncConnection[Any], database_url: str, wait: float
) -> None:
    """Block a put to thread A on a row lock, then put to thread B.

    B touches no row of A's, so only a lock inside the saver can stop it.
    """
    thread_a, thread_b = f"a-{uuid.uuid4()}", f"b-{uuid.uuid4()}"
    checkpoint = empty_checkpoint()
    # An uncommitted row with the same key makes A's upsert wait for it.
    await blocker.execute(
        "INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, checkpoint)"
        " VALUES (%s, '', %s, %s)",
        (thread_a, checkpoint["id"], Jsonb({})),
    )
    blocked = asyncio.create_task(saver.aput(_config(thread_a), checkpoint, {}, {}))
    try:
        async with await psycopg.AsyncConnection.connect(psycopg_conninfo(database_url)) as watcher:
            await _wait_until_blocked(watcher, blocker.info.backend_pid)
        await asyncio.wait_for(saver.aput(_config(thread_b), empty_checkpoint(), {}, {}), timeout=wait)
    finally:
        await blocker.rollback()
        await blocked


class TestNoGlobalLock:
    async def test_one_blocked_thread_does_not_stall_another(
        self, checkpointer: MessageCheckpointer, blocker: psycopg.AsyncConnection[Any], database_url: str
    ) -> None:
        saver = await checkpointer.get_saver()
        assert isinstance(saver, AsyncPostgresSaver)
        # A generous bound: it only turns a regression into a failure, not a hang.
        await _put_while_another_thread_is_blocked(saver, blocker, database_url, wait=30)

    async def test_the_stock_saver_does_stall(
        self, checkpointer: MessageCheckpointer, blocker: psycopg.AsyncConnection[Any], database_url: str
    ) -> None:
        # The fault the pooled saver removes, shown on the same pool, so the
        # test above is known to be able to fail.
        stock = AsyncPostgresSaver(checkpointer.pool)  # type: ignore[arg-type]
        with pytest.raises(TimeoutError):
            await _put_while_another_thread_is_blocked(stock, blocker, database_url, wait=1)


class TestConcurrentWriters:
    async def test_fifty_conversations_at_once(self, checkpointer: MessageCheckpointer) -> None:
        graph = echo_graph(await checkpointer.get_saver())
        threads = [f"many-{i}-{uuid.uuid4()}" for i in range(50)]

        async def converse(thread: str) -> list[str]:
            for turn in range(3):
                messages = await chat(graph, thread, f"{thread} turn {turn}")
            return messages

        results = await asyncio.gather(*(converse(t) for t in threads))
        for thread, messages in zip(threads, results, strict=True):
            expected = [f"{thread} turn {turn}" for turn in range(3)]
            assert messages[0::2] == expected
            assert messages[1::2] == [f"echo: {text}" for text in expected]

    async def test_concurrent_writes_to_one_thread_all_land(self, checkpointer: MessageCheckpointer) -> None:
        saver = await checkpointer.get_saver()
        thread = f"same-{uuid.uuid4()}"
        checkpoints = [empty_checkpoint() for _ in range(20)]
        await asyncio.gather(
            *(saver.aput(_config(thread), c, {"step": i}, {}) for i, c in enumerate(checkpoints))
        )
        await asyncio.gather(
            *(
                saver.aput_writes(_config(thread, c["id"]), [("messages", f"w{i}")], task_id=f"task-{i}")
                for i, c in enumerate(checkpoints)
            )
        )
        stored = [t async for t in saver.alist(_config(thread))]
        assert sorted(t.checkpoint["id"] for t in stored) == sorted(c["id"] for c in checkpoints)
        for found in stored:
            step = found.metadata["step"]
            assert found.pending_writes == [(f"task-{step}", "messages", f"w{step}")]
