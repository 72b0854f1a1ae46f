"""The module-level checkpointer: one per process, however many ask at once."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.config import PersistenceConfig
from app.services.persistence import (
    close_checkpointer,
    get_checkpointer,
    get_message_checkpointer,
    setup_checkpointer_tables,
)
from app.services.persistence import message_checkpointer as module


@pytest.fixture
async def shared(database_url: str, persistence_config: PersistenceConfig) -> AsyncIterator[str]:
    await close_checkpointer()
    yield database_url
    await close_checkpointer()


class TestSharedCheckpointer:
    async def test_fifty_concurrent_first_calls_get_one_saver(
        self, shared: str, persistence_config: PersistenceConfig, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        created: list[module.MessageCheckpointer] = []
        original_init = module.MessageCheckpointer.__init__

        def counting_init(self: module.MessageCheckpointer, *args: object, **kwargs: object) -> None:
            original_init(self, *args, **kwargs)  # type: ignore[arg-type]
            created.append(self)

        monkeypatch.setattr(module.MessageCheckpointer, "__init__", counting_init)
        await setup_checkpointer_tables(shared, persistence_config)
        await close_checkpointer()
        created.clear()

        # Nothing is open: every one of the 50 races to create it.
        first = asyncio.gather(*(get_message_checkpointer(shared, persistence_config) for _ in range(50)))
        checkpointers = await first
        savers = await asyncio.gather(*(get_checkpointer() for _ in range(50)))
        assert len({id(c) for c in checkpointers}) == 1
        assert len({id(s) for s in savers}) == 1
        assert len(created) == 1

    async def test_close_then_get_opens_a_new_one(
        self, shared: str, persistence_config: PersistenceConfig
    ) -> None:
        first = await setup_checkpointer_tables(shared, persistence_config)
        await close_checkpointer()
        assert first.pool is None
        second = await get_message_checkpointer(shared, persistence_config)
        assert second is not first
        assert second.backend == "postgres"

    async def test_close_without_open_is_harmless(self, shared: str) -> None:
        await close_checkpointer()
        await close_checkpointer()
