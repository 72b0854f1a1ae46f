"""The process-wide MessageCheckpointer, created lazily exactly once.

Reached only through these functions, never imported by value, so every
importer sees the same instance.
"""

import asyncio
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from app.config import PersistenceConfig, get_settings
from app.db import resolve_database_url
from app.services.persistence.message_checkpointer import MessageCheckpointer


class _Shared:
    instance: MessageCheckpointer | None = None
    lock: asyncio.Lock | None = None
    loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def guard(cls) -> asyncio.Lock:
        # An asyncio.Lock belongs to one event loop; a new loop gets a new lock.
        loop = asyncio.get_running_loop()
        if cls.lock is None or cls.loop is not loop:
            cls.lock, cls.loop = asyncio.Lock(), loop
        return cls.lock


async def get_message_checkpointer(
    db_url: str | None = None, config: PersistenceConfig | None = None
) -> MessageCheckpointer:
    """The shared MessageCheckpointer, initialised on first call.

    Concurrent first calls wait on one lock, so they all get one instance.
    `db_url` and `config` apply only to the call that creates it.
    """
    if _Shared.instance is not None:
        return _Shared.instance
    async with _Shared.guard():
        if _Shared.instance is None:
            checkpointer = MessageCheckpointer(db_url or resolve_database_url(get_settings()), config)
            await checkpointer.initialize()
            _Shared.instance = checkpointer
    return _Shared.instance


async def get_checkpointer() -> BaseCheckpointSaver[Any]:
    """The shared saver: `builder.compile(checkpointer=await get_checkpointer())`."""
    return await (await get_message_checkpointer()).get_saver()


async def setup_checkpointer_tables(
    db_url: str | None = None, config: PersistenceConfig | None = None
) -> MessageCheckpointer:
    """At start-up: create the shared instance and verify the schema is at head."""
    checkpointer = await get_message_checkpointer(db_url, config)
    await checkpointer.setup_tables()
    return checkpointer


async def close_checkpointer() -> None:
    """At shutdown: close the shared instance; the next call creates a new one."""
    async with _Shared.guard():
        if _Shared.instance is not None:
            await _Shared.instance.cleanup()
            _Shared.instance = None
