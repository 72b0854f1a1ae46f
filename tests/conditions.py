"""Waiting on a condition in a test: polled, bounded against a hang, never a
speed a loaded machine might miss."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


async def until(condition: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Until `condition()` gives something truthy, which it returns."""
    for _ in range(3000):
        if found := await condition():
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


async def waiting_behind(engine: AsyncEngine, holder: AsyncConnection) -> bool:
    """Whether some session waits for a lock `holder`'s transaction holds
    (PostgreSQL sends no event: a test polls this with `until`)."""
    pid = await holder.scalar(text("SELECT pg_backend_pid()"))
    async with engine.connect() as conn:
        waiting = await conn.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"),
            {"pid": pid},
        )
    return bool(waiting)
