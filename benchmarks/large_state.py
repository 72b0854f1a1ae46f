"""W4 in a process of its own, so the peak memory it reports is its own.

python -m benchmarks.large_state ours|stock DATABASE_URL MEGABYTES
"""

import asyncio
import base64
import json
import os
import sys
import threading
import time
import uuid
from typing import Any

import psutil
from langgraph.checkpoint.base import empty_checkpoint
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.config import PersistenceConfig, Settings
from app.db import create_engine
from app.services.persistence import ConversationStorage, MessageCheckpointer
from benchmarks.configs import stock_saver
from benchmarks.workloads import new_conversation

MB = 1024 * 1024


class PeakRss:
    """The process's resident memory, sampled every 5 ms while it runs."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def make_state(megabytes: int) -> dict[str, Any]:
    # Random text: it does not compress, so the database stores what it is sent.
    chunk = base64.b64encode(os.urandom(MB * 3 // 4)).decode()
    return {"documents": [f"{i:08d}{chunk[8:]}" for i in range(megabytes)]}


async def ours(database_url: str, state: dict[str, Any]) -> tuple[float, float, int]:
    engine = create_engine(database_url, Settings(database_url=database_url))
    _, (conversation_id,) = await new_conversation(engine)
    checkpointer = MessageCheckpointer(database_url, PersistenceConfig())
    saver = await checkpointer.get_saver()
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessions() as s:
            storage = ConversationStorage(s, saver=saver)
            start = time.perf_counter()
            await storage.save_agent_state(conversation_id, state)
            saved = time.perf_counter() - start
            start = time.perf_counter()
            restored = await storage.restore_agent_state(conversation_id)
            loaded = time.perf_counter() - start
    finally:
        await checkpointer.cleanup()
        await engine.dispose()
    return saved, loaded, len(restored["documents"])


async def stock(database_url: str, state: dict[str, Any]) -> tuple[float, float, int]:
    async with stock_saver(database_url) as saver:
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = dict(state)
        checkpoint["channel_versions"] = {"documents": saver.get_next_version(None, None)}
        config = {"configurable": {"thread_id": str(uuid.uuid4()), "checkpoint_ns": ""}}
        start = time.perf_counter()
        stored = await saver.aput(config, checkpoint, {}, dict(checkpoint["channel_versions"]))  # type: ignore[arg-type]
        saved = time.perf_counter() - start
        start = time.perf_counter()
        found = await saver.aget_tuple(stored)
        loaded = time.perf_counter() - start
    assert found is not None
    return saved, loaded, len(found.checkpoint["channel_values"]["documents"])


async def main() -> None:
    config, database_url, megabytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    baseline = psutil.Process().memory_info().rss
    with PeakRss() as rss:
        state = make_state(megabytes)
        state_bytes = sum(len(d) for d in state["documents"])
        saved, loaded, count = await (ours if config == "ours" else stock)(database_url, state)
    assert count == megabytes
    print(
        json.dumps(
            {
                "save_s": saved,
                "restore_s": loaded,
                "state_mb": state_bytes / MB,
                # The state itself counts once: 1.0 would mean no copies at all.
                "peak_over_state": (rss.peak - baseline) / state_bytes,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
