"""Waiting on a condition in a test: polled, bounded against a hang, never a
speed a loaded machine might miss."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def until(condition: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Until `condition()` gives something truthy, which it returns."""
    for _ in range(3000):
        if found := await condition():
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")
