"""W4: a large state saved in one process and restored in another, so each
peak of memory is that step's own, as when one request saves and a later one
(perhaps on another worker) restores.

python -m benchmarks.large_state ours|stock save DATABASE_URL MEGABYTES   -> prints the key
python -m benchmarks.large_state ours|stock restore DATABASE_URL KEY
"""

import asyncio
import base64
import json
import os
import resource
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psutil
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.config import PersistenceConfig, Settings
from app.db import create_engine
from app.services.persistence import ConversationStorage, MessageCheckpointer
from benchmarks.configs import stock_saver
from benchmarks.workloads import new_conversation

MB = 1024 * 1024


def peak_rss() -> int:
    """The most resident memory this process has had, in bytes (Linux counts KiB).

    The kernel's high-water mark, not a sampler's: a copy that lives for a
    millisecond counts as much as one that lives for a second.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def make_state(megabytes: int) -> dict[str, Any]:
    # Random text: it does not compress, so the database stores what it is sent.
    chunk = base64.b64encode(os.urandom(MB * 3 // 4)).decode()
    return {"documents": [f"{i:08d}{chunk[8:]}" for i in range(megabytes)]}


@asynccontextmanager
async def _storage(database_url: str) -> AsyncIterator[tuple[ConversationStorage, AsyncEngine]]:
    engine = create_engine(database_url, Settings(database_url=database_url))
    checkpointer = MessageCheckpointer(database_url, PersistenceConfig())
    saver = await checkpointer.get_saver()
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            yield ConversationStorage(session, saver=saver), engine
    finally:
        await checkpointer.cleanup()
        await engine.dispose()


async def save_ours(database_url: str, state: dict[str, Any]) -> tuple[float, str]:
    async with _storage(database_url) as (storage, engine):
        _, (conversation_id,) = await new_conversation(engine)
        start = time.perf_counter()
        await storage.save_agent_state(conversation_id, state)
        return time.perf_counter() - start, str(conversation_id)


async def restore_ours(database_url: str, conversation_id: str) -> tuple[float, dict[str, Any]]:
    async with _storage(database_url) as (storage, _):
        start = time.perf_counter()
        state = await storage.restore_agent_state(uuid.UUID(conversation_id))
        return time.perf_counter() - start, state


async def save_stock(database_url: str, state: dict[str, Any]) -> tuple[float, str]:
    async with stock_saver(database_url) as saver:
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = dict(state)
        checkpoint["channel_versions"] = {"documents": saver.get_next_version(None, None)}
        thread_id = str(uuid.uuid4())
        config: RunnableConfig = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        start = time.perf_counter()
        await saver.aput(config, checkpoint, {}, dict(checkpoint["channel_versions"]))
        return time.perf_counter() - start, thread_id


async def restore_stock(database_url: str, thread_id: str) -> tuple[float, dict[str, Any]]:
    async with stock_saver(database_url) as saver:
        start = time.perf_counter()
        found = await saver.aget_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
        assert found is not None
        return time.perf_counter() - start, found.checkpoint["channel_values"]


async def main() -> None:
    config, step, database_url, argument = sys.argv[1:5]
    # The peak so far (imports) is far under the state's size, so the peak
    # after the step less the memory before it is the step's own.
    before = psutil.Process().memory_info().rss
    if step == "save":
        state = make_state(int(argument))
        seconds, key = await (save_ours if config == "ours" else save_stock)(database_url, state)
    else:
        seconds, state = await (restore_ours if config == "ours" else restore_stock)(database_url, argument)
        key = ""
    state_bytes = sum(len(d) for d in state["documents"])
    # The state itself counts once: 1.0 would mean no copies at all.
    peak = (peak_rss() - before) / state_bytes
    print(json.dumps({"seconds": seconds, "key": key, "peak_over_state": peak}))


if __name__ == "__main__":
    asyncio.run(main())
