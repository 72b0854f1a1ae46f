"""Requests racing on one row: each write that refers to a conversation
against its delete, and two creates of one thread. The first is held open in
another transaction until the second waits on it, then committed. The answer
is what the race means (404, 409, or the thread), never 500 (decision 0016)."""

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conditions import until, waiting_behind
from tests.http_client import Caller

Write = Callable[[httpx.AsyncClient, str, str], Coroutine[Any, Any, httpx.Response]]

WRITES: dict[str, Write] = {
    "fork": lambda c, conversation, _: c.post(f"/api/v1/conversations/{conversation}/fork", json={}),
    "copy": lambda c, thread, _: c.post(f"/langgraph/threads/{thread}/copy"),
    "message": lambda c, conversation, _: c.post(
        f"/api/v1/conversations/{conversation}/messages", json={"content": "again"}
    ),
    "state update": lambda c, thread, _: c.post(
        f"/langgraph/threads/{thread}/state",
        json={"values": {"messages": [{"type": "ai", "content": "an aside"}]}, "as_node": "respond"},
    ),
    "run create": lambda c, thread, _: c.post(
        f"/langgraph/threads/{thread}/runs",
        json={"assistant_id": "chat", "input": {"messages": [{"role": "user", "content": "again"}]}},
    ),
    "feedback": lambda c, _, run_id: c.put(f"/api/v1/runs/{run_id}/feedback", json={"sentiment": "positive"}),
}


@pytest.mark.parametrize("write", list(WRITES))
async def test_a_write_racing_the_delete_of_its_conversation_is_404(
    alice: Caller, engine: AsyncEngine, write: str
) -> None:
    conversation = await alice.conversation()
    sent = await alice.send(conversation, "hello")
    assert sent.status_code == 200, sent.text
    async with engine.connect() as holder:
        # The delete has gone through, not committed yet: the write reads the
        # conversation as there, then waits on the rows the delete holds.
        await holder.execute(text("DELETE FROM conversations WHERE id = :id"), {"id": conversation})
        racing = asyncio.create_task(WRITES[write](alice.client, conversation, sent.json()["run_id"]))
        await until(lambda: waiting_behind(engine, holder), f"the {write} waiting on the delete")
        await holder.commit()
        answer = await racing
    body: dict[str, Any] = answer.json()
    assert answer.status_code == 404, body
    assert body["error"] in ("ConversationNotFound", "RunNotFound"), body


async def test_a_delete_racing_a_run_still_writing_waits_for_it(alice: Caller, engine: AsyncEngine) -> None:
    conversation = await alice.conversation()
    sent = await alice.send(conversation, "hello")
    run_id = sent.json()["run_id"]
    async with engine.connect() as run:
        # A run's progress write: its reply first ...
        await run.execute(
            text("UPDATE messages SET content = content WHERE run_id = :r AND role = 'assistant'"),
            {"r": run_id},
        )
        deleting = asyncio.create_task(alice.client.delete(f"/api/v1/conversations/{conversation}"))
        await until(lambda: waiting_behind(engine, run), "the delete waiting on the reply")
        # ... then its events, which refer to the run's row.
        await run.execute(
            text("INSERT INTO run_events (run_id, seq, events) VALUES (:r, 1000, '[]')"), {"r": run_id}
        )
        await run.commit()
    deleted = await deleting
    assert deleted.status_code == 204, deleted.text


@pytest.mark.parametrize(("if_exists", "status"), [("do_nothing", 200), ("raise", 409)])
async def test_a_thread_created_while_another_creates_it(
    alice: Caller, engine: AsyncEngine, if_exists: str, status: int
) -> None:
    thread = str(uuid.uuid4())
    async with engine.connect() as other:
        # Alice's other create of the same id, not committed yet: this one
        # finds the id free, then waits on the key.
        await other.execute(
            text("INSERT INTO conversations (id, user_id) VALUES (:t, :u)"), {"t": thread, "u": alice.id}
        )
        racing = asyncio.create_task(
            alice.client.post("/langgraph/threads", json={"thread_id": thread, "if_exists": if_exists})
        )
        await until(lambda: waiting_behind(engine, other), "the second create waiting on the key")
        await other.commit()
        answer = await racing
    assert answer.status_code == status, answer.text
    if status == 200:
        assert answer.json()["thread_id"] == thread
    else:
        assert answer.json()["error"] == "ThreadExists"
