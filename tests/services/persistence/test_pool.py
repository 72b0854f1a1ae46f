"""The saver pool's connection check: no round trip for a healthy idle connection."""

from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg.rows import DictRow, dict_row

from app.config import psycopg_conninfo
from app.services.persistence.pool import check_connection


@pytest.fixture
async def connection(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[DictRow]]:
    conn = await psycopg.AsyncConnection.connect(
        psycopg_conninfo(database_url), autocommit=True, row_factory=dict_row
    )
    yield conn
    await conn.close()


async def test_a_healthy_idle_connection_passes_without_a_query(
    connection: psycopg.AsyncConnection[DictRow], monkeypatch: pytest.MonkeyPatch
) -> None:
    await connection.execute("SELECT 1")
    queries: list[str] = []
    real_execute = connection.execute

    async def counted(query: str, *args: object, **kwargs: object) -> object:
        queries.append(query)
        return await real_execute(query, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(connection, "execute", counted)
    await check_connection(connection)
    assert queries == []


async def test_a_terminated_backend_is_caught(
    connection: psycopg.AsyncConnection[DictRow], database_url: str
) -> None:
    async with await psycopg.AsyncConnection.connect(
        psycopg_conninfo(database_url), autocommit=True
    ) as killer:
        # With a timeout it returns once the backend has exited, not when signalled.
        await killer.execute("SELECT pg_terminate_backend(%s, 60000)", [connection.info.backend_pid])
    # The server's FATAL message and EOF are now waiting on the socket.
    with pytest.raises(psycopg.OperationalError):
        await check_connection(connection)


async def test_a_closed_connection_is_caught(connection: psycopg.AsyncConnection[DictRow]) -> None:
    await connection.close()
    with pytest.raises(psycopg.OperationalError):
        await check_connection(connection)
