"""`POST /langgraph/threads/prune` goes through every thread it is given: one
whose checkpoints cannot be read is named in a 409 and left as it was, and
the others are pruned all the same."""

from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

COUNT_SQL = text("SELECT count(*) FROM checkpoints WHERE thread_id = :t")
# A row no LangGraph writes: channel versions that are not an object.
BREAK_SQL = text(
    """
    UPDATE checkpoints SET checkpoint = jsonb_set(checkpoint, '{channel_versions}', '[1]'::jsonb)
    WHERE thread_id = :t AND checkpoint_id = (SELECT min(checkpoint_id) FROM checkpoints WHERE thread_id = :t)
    """
)

# A stray root older than the thread's first checkpoint, on no branch the
# latest is rebuilt from: keep_latest deletes it.
STRAY_SQL = text(
    """
    INSERT INTO checkpoints
    SELECT (jsonb_populate_record(
        NULL::checkpoints,
        to_jsonb(c)
        || jsonb_build_object('checkpoint_id', '0' || c.checkpoint_id, 'parent_checkpoint_id', NULL)
    )).*
    FROM checkpoints c
    WHERE c.thread_id = :t
      AND c.checkpoint_id = (SELECT min(checkpoint_id) FROM checkpoints WHERE thread_id = :t)
    """
)


def said(words: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": words}]}


async def _counts(sessions: async_sessionmaker[AsyncSession], threads: list[str]) -> dict[str, int]:
    async with sessions() as s:
        return {thread: int(await s.scalar(COUNT_SQL, {"t": thread}) or 0) for thread in threads}


async def test_an_unreadable_thread_is_named_and_the_others_are_pruned(
    sdk: LangGraphClient, api: httpx.AsyncClient, committed: async_sessionmaker[AsyncSession]
) -> None:
    threads = [(await sdk.threads.create())["thread_id"] for _ in range(3)]
    for thread in threads:
        for words in ("one", "two"):
            await sdk.runs.wait(thread, "chat", input=said(words))
    broken = threads[1]
    async with committed() as s:
        for thread in threads:
            await s.execute(STRAY_SQL, {"t": thread})
        await s.execute(BREAK_SQL, {"t": broken})
        await s.commit()
    before = await _counts(committed, threads)

    try:
        answer = await api.post(
            "/langgraph/threads/prune", json={"thread_ids": threads, "strategy": "keep_latest"}
        )

        assert answer.status_code == 409, answer.text
        assert answer.json()["error"] == "ThreadsNotPruned"
        assert broken in answer.json()["detail"]
        after = await _counts(committed, threads)
        assert after[broken] == before[broken]
        for thread in (threads[0], threads[2]):
            assert after[thread] == before[thread] - 1, thread
            values = (await sdk.threads.get(thread))["values"]
            assert isinstance(values, dict)
            assert len(values["messages"]) == 4
    finally:
        # Other tests sweep the whole database.
        await sdk.threads.delete(broken)
