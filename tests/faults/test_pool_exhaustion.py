"""A pool exhausted by slow work answers 503 after its timeout, and recovers."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.config import get_settings
from tests.http_client import AppFactory, Caller

POOL_TIMEOUT = 0.5


@pytest.fixture
async def app(app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FastAPI]:
    """The app with a two-connection SQLAlchemy pool that waits half a second."""
    monkeypatch.setenv("DB_POOL_SIZE", "2")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "0")
    monkeypatch.setenv("DB_POOL_TIMEOUT", str(POOL_TIMEOUT))
    get_settings.cache_clear()
    try:
        yield await app_factory()
    finally:
        get_settings.cache_clear()


async def test_exhausted_pool_answers_503_then_recovers(
    app: FastAPI, make_caller: Callable[[], Awaitable[Caller]]
) -> None:
    alice = await make_caller()
    # Slow work holds every connection of the pool.
    held = [await app.state.engine.connect() for _ in range(2)]
    for conn in held:
        await conn.execute(text("SELECT 1"))
    try:
        start = time.perf_counter()
        responses = await asyncio.gather(*(alice.client.get("/api/v1/conversations") for _ in range(10)))
        waited = time.perf_counter() - start
        assert [r.status_code for r in responses] == [503] * 10
        assert {r.json()["error"] for r in responses} == {"DatabaseUnavailable"}
        # Each gave up after the pool timeout instead of queueing behind the others.
        assert waited < 10 * POOL_TIMEOUT
    finally:
        for conn in held:
            await conn.close()
    assert (await alice.client.get("/api/v1/conversations")).status_code == 200
    await alice.client.aclose()
