"""MessageCheckpointer: start-up, durability, queries, shutdown, against real PostgreSQL."""

import asyncio
import logging
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from app.config import PersistenceConfig
from app.services.persistence import (
    DatabaseRefused,
    DatabaseUnavailable,
    MessageCheckpointer,
    SchemaNotMigrated,
)
from app.services.persistence.saver import PooledPostgresSaver
from app.services.persistence.schema_status import alembic_heads
from tests.database import drop_database, recreate_database, scratch_name, url_for
from tests.graphs import chat, echo_graph

QUICK = PersistenceConfig(retry_attempts=2, retry_base_delay=0.01, retry_max_delay=0.05, connect_timeout=2)


@pytest.fixture
async def unmigrated_database(test_server_url: str) -> AsyncIterator[str]:
    url = await recreate_database(test_server_url, scratch_name("unmigrated"))
    yield url
    await drop_database(test_server_url, scratch_name("unmigrated"))


class TestInitialize:
    async def test_runs_the_lock_free_saver_on_a_pool(self, checkpointer: MessageCheckpointer) -> None:
        saver = await checkpointer.get_saver()
        assert isinstance(saver, PooledPostgresSaver)
        assert checkpointer.backend == "postgres"
        assert checkpointer.schema_revision == ", ".join(sorted(alembic_heads()))
        health = await checkpointer.health()
        assert health["database"] == "ok"
        assert health["pool"]["max"] == checkpointer.config.pool_max_size

    async def test_initialize_twice_keeps_one_pool(self, checkpointer: MessageCheckpointer) -> None:
        pool = checkpointer.pool
        await checkpointer.initialize()
        assert checkpointer.pool is pool

    async def test_unreachable_database_names_the_host_and_cause(self) -> None:
        checkpointer = MessageCheckpointer("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", QUICK)
        with pytest.raises(DatabaseUnavailable, match=r"127\.0\.0\.1:1/nowhere is unreachable"):
            await checkpointer.initialize()
        assert checkpointer.backend is None

    async def test_missing_database_is_refused_without_retrying(
        self, test_server_url: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        checkpointer = MessageCheckpointer(url_for(test_server_url, "surfsense_no_such_db"), QUICK)
        with caplog.at_level(logging.WARNING), pytest.raises(DatabaseRefused, match="does not exist"):
            await checkpointer.initialize()
        assert not [r for r in caplog.records if "retry" in r.getMessage()]

    async def test_memory_fallback_starts_degraded(self, caplog: pytest.LogCaptureFixture) -> None:
        config = QUICK.model_copy(update={"fallback": "memory"})
        checkpointer = MessageCheckpointer("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", config)
        with caplog.at_level(logging.WARNING):
            await checkpointer.initialize()
        assert checkpointer.backend == "memory"
        assert isinstance(await checkpointer.get_saver(), InMemorySaver)
        assert "in-memory saver" in caplog.text
        assert "127.0.0.1:1/nowhere is unreachable" in (checkpointer.degraded_reason or "")
        assert (await checkpointer.health())["degraded_reason"] == checkpointer.degraded_reason
        graph = echo_graph(await checkpointer.get_saver())
        assert await chat(graph, "t", "hi") == ["hi", "echo: hi"]

    async def test_schema_not_at_head_says_what_to_run(self, unmigrated_database: str) -> None:
        checkpointer = MessageCheckpointer(unmigrated_database, QUICK)
        with pytest.raises(SchemaNotMigrated, match="alembic upgrade head"):
            await checkpointer.initialize()


class TestDurability:
    async def test_state_survives_closing_and_reopening(
        self, database_url: str, persistence_config: PersistenceConfig
    ) -> None:
        thread = f"durable-{uuid.uuid4()}"
        first = MessageCheckpointer(database_url, persistence_config)
        await chat(echo_graph(await first.get_saver()), thread, "remember me")
        await first.cleanup()

        second = MessageCheckpointer(database_url, persistence_config)
        try:
            messages = await chat(echo_graph(await second.get_saver()), thread, "still there?")
        finally:
            await second.cleanup()
        assert messages == ["remember me", "echo: remember me", "still there?", "echo: still there?"]

    async def test_state_survives_a_new_process(
        self, checkpointer: MessageCheckpointer, database_url: str
    ) -> None:
        thread = f"process-{uuid.uuid4()}"
        await chat(echo_graph(await checkpointer.get_saver()), thread, "written here")
        reader = (
            "import asyncio, sys\n"
            "from app.services.persistence import MessageCheckpointer\n"
            "async def main():\n"
            "    cp = MessageCheckpointer(sys.argv[1])\n"
            "    saver = await cp.get_saver()\n"
            "    found = await saver.aget_tuple({'configurable': {'thread_id': sys.argv[2]}})\n"
            "    print([m.content for m in found.checkpoint['channel_values']['messages']])\n"
            "    await cp.cleanup()\n"
            "asyncio.run(main())\n"
        )
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", reader, database_url, thread],
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.strip() == "['written here', 'echo: written here']"


class TestQueries:
    async def test_get_checkpoint_by_id_alone(self, checkpointer: MessageCheckpointer) -> None:
        thread = f"lookup-{uuid.uuid4()}"
        await chat(echo_graph(await checkpointer.get_saver()), thread, "find me")
        newest = (await checkpointer.list_checkpoints(limit=1, thread_id=thread))[0]
        checkpoint_id = newest.config["configurable"]["checkpoint_id"]

        found = await checkpointer.get_checkpoint(checkpoint_id)
        assert found is not None
        assert found.config["configurable"]["thread_id"] == thread
        assert await checkpointer.get_checkpoint("no-such-checkpoint") is None

    async def test_list_pages_newest_first(self, checkpointer: MessageCheckpointer) -> None:
        thread = f"list-{uuid.uuid4()}"
        graph = echo_graph(await checkpointer.get_saver())
        for turn in range(3):
            await chat(graph, thread, f"turn {turn}")
        everything = await checkpointer.list_checkpoints(limit=100, thread_id=thread)
        ids = [t.config["configurable"]["checkpoint_id"] for t in everything]
        assert ids == sorted(ids, reverse=True)
        # Each turn saves three: the input, START's output, and the echo.
        assert len(ids) == 9
        page = await checkpointer.list_checkpoints(limit=2, thread_id=thread, before=ids[1])
        assert [t.config["configurable"]["checkpoint_id"] for t in page] == ids[2:4]


class TestShutdown:
    async def test_cleanup_does_not_wait_for_a_stuck_connection(
        self, database_url: str, persistence_config: PersistenceConfig
    ) -> None:
        config = persistence_config.model_copy(update={"checkpointer_cleanup_timeout": 0.2})
        checkpointer = MessageCheckpointer(database_url, config)
        await checkpointer.initialize()
        assert checkpointer.pool is not None
        holding = asyncio.Event()

        async def hold_a_connection() -> None:
            async with checkpointer.pool.connection() as conn:  # type: ignore[union-attr]
                holding.set()
                await conn.execute("SELECT pg_sleep(60)")

        holder = asyncio.create_task(hold_a_connection())
        await holding.wait()
        # The guard only keeps a regression from hanging the suite.
        await asyncio.wait_for(checkpointer.cleanup(), timeout=30)
        assert checkpointer.pool is None
        holder.cancel()
        await asyncio.gather(holder, return_exceptions=True)
