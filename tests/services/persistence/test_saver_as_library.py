"""PooledPostgresSaver used as a library, as the stock saver is: the same
constructor and `from_conn_string`, any serializer, and nothing changed for
other savers in the process. (The upstream internals it relies on: test_upstream.py.)"""

import uuid
from collections.abc import AsyncIterator

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.postgres import aio
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from app.config import psycopg_conninfo
from app.services.persistence import MessageCheckpointer
from app.services.persistence.saver import PooledPostgresSaver
from app.services.persistence.saver_reads import SELECT_SQL
from tests.database import drop_database, recreate_database, scratch_name
from tests.graphs import chat, echo_graph

SECRET = "a private note for the saver"


def _config(thread: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}


async def _blobs(saver: AsyncPostgresSaver, thread: str) -> list[bytes]:
    async with saver._cursor() as cur:
        await cur.execute("SELECT blob FROM checkpoint_blobs WHERE thread_id = %s", (thread,))
        return [bytes(row["blob"]) for row in await cur.fetchall() if row["blob"] is not None]


class TestConstruction:
    async def test_a_serializer_is_used_for_every_value(self, checkpointer: MessageCheckpointer) -> None:
        pool = checkpointer.pool
        serde = EncryptedSerializer.from_pycryptodome_aes(key=b"0123456789abcdef0123456789abcdef")
        saver = PooledPostgresSaver(pool, serde=serde)
        assert saver.serde is serde
        graph = echo_graph(saver)
        thread = f"encrypted-{uuid.uuid4()}"
        await chat(graph, thread, SECRET)
        state = await graph.aget_state(_config(thread))
        assert state.values["messages"][0].text == SECRET
        blobs = await _blobs(saver, thread)
        assert blobs
        assert not any(SECRET.encode() in blob for blob in blobs)
        # Without the key the values cannot be read back.
        with pytest.raises((ValueError, NotImplementedError), match=r"msgpack\+aes"):
            await echo_graph(PooledPostgresSaver(pool)).aget_state(_config(thread))
        await saver.adelete_thread(thread)

    async def test_from_conn_string_gives_a_working_saver(self, database_url: str) -> None:
        thread = f"conn-string-{uuid.uuid4()}"
        async with PooledPostgresSaver.from_conn_string(psycopg_conninfo(database_url)) as saver:
            assert isinstance(saver, PooledPostgresSaver)
            config = await saver.aput(_config(thread), empty_checkpoint(), {}, {})
            assert await saver.aget_tuple(config) is not None
            await saver.adelete_thread(thread)

    async def test_the_stock_positional_arguments(self, checkpointer: MessageCheckpointer) -> None:
        serde = PooledPostgresSaver(checkpointer.pool).serde
        saver = PooledPostgresSaver(checkpointer.pool, None, serde)
        assert saver.serde is serde

    async def test_constructing_one_changes_no_other_saver(self, checkpointer: MessageCheckpointer) -> None:
        before = dict(vars(aio))
        PooledPostgresSaver(checkpointer.pool)
        assert vars(aio) == before
        assert AsyncPostgresSaver.SELECT_SQL != SELECT_SQL


class TestOnTheStockSchema:
    """A database that the stock saver's own setup() made: no ownership columns."""

    @pytest.fixture
    async def stock_database(self, test_server_url: str) -> AsyncIterator[str]:
        url = await recreate_database(test_server_url, scratch_name("stock_schema"))
        async with AsyncPostgresSaver.from_conn_string(psycopg_conninfo(url)) as stock:
            await stock.setup()
        yield psycopg_conninfo(url)
        await drop_database(test_server_url, scratch_name("stock_schema"))

    async def test_prune_and_delete_for_runs_work(self, stock_database: str) -> None:
        async with AsyncConnectionPool(
            stock_database, kwargs={"autocommit": True, "row_factory": dict_row}, open=False
        ) as pool:
            saver = PooledPostgresSaver(pool)
            graph = echo_graph(saver, delta=True)
            thread = f"stock-{uuid.uuid4()}"
            for turn in range(4):
                await chat(graph, thread, f"turn {turn}")
            before = (await graph.aget_state(_config(thread))).values
            await saver.aprune([thread], strategy="keep_latest")
            assert (await graph.aget_state(_config(thread))).values == before
            await saver.adelete_for_runs([str(uuid.uuid4())])
            assert (await graph.aget_state(_config(thread))).values == before
