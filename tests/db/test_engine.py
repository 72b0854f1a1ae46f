"""SQLAlchemy's pool checks a connection without a round trip, and keeps TCP ones alive."""

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.config import Settings
from app.db import create_engine


@pytest.fixture
async def small_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(
        database_url, Settings(database_url=database_url, db_pool_size=1, db_max_overflow=0)
    )
    yield engine
    await engine.dispose()


async def _driver(conn: AsyncConnection) -> Any:
    return (await conn.get_raw_connection()).driver_connection


async def _until(condition: Any, within: float = 60.0) -> None:
    """Until `condition()` holds; a bound against a hang, not a speed."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the condition is the driver's, with no event to wait on
            await asyncio.sleep(0.01)


async def test_a_checkout_sends_nothing(small_engine: AsyncEngine) -> None:
    async with small_engine.connect() as conn:
        pooled = await _driver(conn)
    sent: list[str] = []
    pooled.add_query_logger(lambda record: sent.append(record.query))
    for _ in range(3):
        async with small_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    # Each checkout's own transaction (its SELECT is a prepared statement, which
    # the logger does not see), and no ping: pool_pre_ping sent ";" in a
    # transaction of its own on every checkout.
    assert sent == ["BEGIN;", "ROLLBACK;"] * 3


async def test_a_connection_the_server_closed_is_replaced_at_checkout(
    small_engine: AsyncEngine, engine: AsyncEngine
) -> None:
    async with small_engine.connect() as conn:
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        pooled = await _driver(conn)
    async with engine.connect() as admin:
        assert await admin.scalar(text("SELECT pg_terminate_backend(:pid, 30000)"), {"pid": pid})
    # The event loop reads the server's goodbye: the pooled connection is closed on our side.
    await _until(pooled.is_closed)
    async with small_engine.connect() as conn:
        assert await conn.scalar(text("SELECT pg_backend_pid()")) != pid
        assert await _driver(conn) is not pooled


async def test_tcp_connections_have_keepalives(small_engine: AsyncEngine) -> None:
    async with small_engine.connect() as conn:
        sock = (await _driver(conn))._transport.get_extra_info("socket")
    if sock.family == socket.AF_UNIX:
        pytest.skip("the test server is reached over a unix socket")
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
