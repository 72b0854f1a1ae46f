"""Two real app processes on one database, directly and through PgBouncer in
transaction mode: a run started on one is joined, queued behind, cancelled,
interrupted and rolled back from the other, and `kill -9` of the process running a run frees
its conversation within the lease, with the run queued behind it going on."""

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conditions import until
from tests.conftest import TEST_DATABASE
from tests.pgbouncer import database_via
from tests.server import Server, one_user_on, running

DOMAIN = "engine.example.com"
# Slow enough tokens that a run is mid-way when the test acts; a short lease
# and poll so a dead process is noticed in seconds.
ENV = {
    "LOCAL_TOKEN_DELAY": "0.02",
    "CHAT_RUN_LEASE": "2",
    "CHAT_POLL_INTERVAL": "0.2",
    "STREAM_HEARTBEAT": "0.3",
    "SECRET_KEY": "engine-test-secret-key-of-enough-length",
}
LONG = "word " * 150  # a reply of some 300 tokens: six seconds at the delay above


@pytest.fixture(params=["direct", "pgbouncer"])
async def url(request: pytest.FixtureRequest, database_url: str, test_server_url: str) -> AsyncIterator[str]:
    async with database_via(request.param, database_url, test_server_url, TEST_DATABASE) as url:
        yield url


@pytest.fixture
async def servers(url: str, tmp_path: Path, engine: AsyncEngine) -> AsyncIterator[tuple[Server, Server]]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with (
        running(url, tmp_path / "a", engine, DOMAIN, **ENV) as a,
        running(url, tmp_path / "b", engine, DOMAIN, **ENV) as b,
    ):
        yield a, b


@pytest.fixture
async def clients(
    servers: tuple[Server, Server],
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """One user, a client on each process."""
    async with one_user_on(*servers, DOMAIN) as clients:
        yield clients


def _event(frame: str) -> tuple[int | None, str | None, Any]:
    seq = name = data = None
    for line in frame.splitlines():
        key, _, value = line.partition(": ")
        if key == "id":
            seq = int(value)
        elif key == "event":
            name = value
        elif key == "data":
            data = json.loads(value)
    return seq, name, data


async def _frames(response: httpx.Response) -> AsyncIterator[str]:
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk
        while "\n\n" in buffer:
            frame, buffer = buffer.split("\n\n", 1)
            yield frame


async def _runs(client: httpx.AsyncClient, conversation: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/conversations/{conversation}/runs")
    assert response.status_code == 200, response.text
    return sorted(response.json()["items"], key=lambda r: r["started_at"])


async def _history(client: httpx.AsyncClient, conversation: str) -> list[tuple[str, str, str]]:
    items = (await client.get(f"/api/v1/conversations/{conversation}/messages")).json()["items"]
    return [(m["role"], m["content"][:30], m["status"]) for m in items]


async def _read_some(client: httpx.AsyncClient, conversation: str, count: int) -> tuple[str, int]:
    """Start a long run streaming, read `count` events, hang up: (run id, last id seen)."""
    url = f"/api/v1/conversations/{conversation}/messages?stream=events"
    last, run_id = 0, None
    async with client.stream("POST", url, json={"content": LONG}) as response:
        async for frame in _frames(response):
            seq, name, data = _event(frame)
            run_id = run_id or (data or {}).get("run_id")
            last = seq or last
            if name == "token" and last >= count:
                break
    assert run_id is not None
    return run_id, last


async def test_join_queue_and_cancel_across_processes(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    on_a, on_b = clients
    conversation = (await on_a.post("/api/v1/conversations", json={})).json()["id"]
    run_id, last = await _read_some(on_a, conversation, 10)

    # B joins after the last event A's client saw: no gap, no duplicate, to the end.
    url = f"/api/v1/conversations/{conversation}/runs/{run_id}/stream"
    seen = []
    async with on_b.stream("GET", url, headers={"Last-Event-ID": str(last)}) as response:
        async for frame in _frames(response):
            seq, name, data = _event(frame)
            if seq is not None:
                seen.append(seq)
            final = (name, data)
    assert seen == list(range(last + 1, seen[-1] + 1))
    assert final[0] == "done"
    assert final[1]["status"] == "succeeded"

    # A second long run on A; B queues a message behind it, streaming, and
    # its stream keeps alive with heartbeats until its turn.
    second, _ = await _read_some(on_a, conversation, 5)
    queued_url = f"/api/v1/conversations/{conversation}/messages?stream=events"
    frames: list[str] = []
    body = {"content": "after", "multitask_strategy": "enqueue"}
    queued = asyncio.create_task(_collect(on_b, queued_url, body, frames))
    await until(lambda: _status(on_b, conversation, "pending"), "B's message queued")
    await until(lambda: _true(any(f.startswith(": heartbeat") for f in frames)), "a heartbeat while queued")
    # B cancels A's run (interrupt, waiting for it): the queued run goes next.
    cancel = f"/api/v1/conversations/{conversation}/runs/{second}/cancel?wait=true"
    cancelled = await on_b.post(cancel)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    await queued
    events = [_event(f) for f in frames if not f.startswith(":")]
    assert events[-1][1] == "done"
    assert events[-1][2]["status"] == "succeeded"
    assert [r["status"] for r in await _runs(on_b, conversation)] == [
        "succeeded",
        "cancelled",
        "succeeded",
    ]
    history = await _history(on_b, conversation)
    # The cancelled run's message stays; its unfinished reply does not.
    assert [(role, status) for role, _, status in history] == [
        ("user", "complete"),
        ("assistant", "complete"),
        ("user", "complete"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]


async def _collect(client: httpx.AsyncClient, url: str, body: dict[str, Any], frames: list[str]) -> None:
    async with client.stream("POST", url, json=body) as response:
        assert response.status_code == 200
        async for frame in _frames(response):
            frames.append(frame)


async def _true(value: bool) -> bool:
    return value


async def _status(client: httpx.AsyncClient, conversation: str, status: str) -> bool:
    return any(r["status"] == status for r in await _runs(client, conversation))


async def test_kill_9_frees_the_conversation_within_the_lease(
    servers: tuple[Server, Server], clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, _ = servers
    on_a, on_b = clients
    conversation = (await on_a.post("/api/v1/conversations", json={})).json()["id"]
    run_id, _ = await _read_some(on_a, conversation, 10)
    queued = asyncio.create_task(
        on_b.post(
            f"/api/v1/conversations/{conversation}/messages",
            json={"content": "next", "multitask_strategy": "enqueue"},
        )
    )
    await until(lambda: _status(on_b, conversation, "pending"), "B's message queued")
    assert a.stop(signal.SIGKILL) == -signal.SIGKILL

    # B: the run ends Interrupted for anyone following it, and the queue goes on.
    url = f"/api/v1/conversations/{conversation}/runs/{run_id}/stream"
    async with on_b.stream("GET", url, headers={"Last-Event-ID": "10"}) as response:
        events = [_event(frame) async for frame in _frames(response)]
    assert events[-1][1] == "error"
    assert events[-1][2]["error"] == "Interrupted"
    reply = await queued
    assert reply.status_code == 200, reply.text
    assert reply.json()["assistant_message"]["content"].endswith("“next”.")
    runs = await _runs(on_b, conversation)
    assert [(r["status"], r["error_kind"]) for r in runs] == [
        ("failed", "Interrupted"),
        ("succeeded", None),
    ]
    # Nothing partial: the dead run's reply is gone, its message stays.
    assert [(role, status) for role, _, status in await _history(on_b, conversation)] == [
        ("user", "complete"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]


async def _traces(engine: AsyncEngine, run_id: str) -> tuple[int, int, int]:
    """What a run left: its checkpoints (any namespace), messages and events."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM checkpoints WHERE metadata->>'run_id' = :r),"
                    " (SELECT count(*) FROM messages WHERE run_id = CAST(:r AS uuid)),"
                    " (SELECT count(*) FROM run_events WHERE run_id = CAST(:r AS uuid))"
                ),
                {"r": run_id},
            )
        ).one()
    return row[0], row[1], row[2]


async def _superseded_from_b(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], conversation: str, strategy: str, content: str
) -> tuple[str, dict[str, Any]]:
    """A long run streaming on A, then `content` sent to B with `strategy`:
    the first run's id, and B's JSON answer."""
    on_a, on_b = clients
    first, _ = await _read_some(on_a, conversation, 5)
    answer = await on_b.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"content": content, "multitask_strategy": strategy},
    )
    assert answer.status_code == 200, answer.text
    return first, answer.json()


async def test_interrupt_keeps_and_rollback_removes_the_run_another_process_runs(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], engine: AsyncEngine
) -> None:
    on_a, on_b = clients
    conversation = (await on_a.post("/api/v1/conversations", json={})).json()["id"]

    kept, answer = await _superseded_from_b(clients, conversation, "interrupt", "instead")
    assert answer["assistant_message"]["content"] == "Reply 2: you said “instead”."
    checkpoints, messages, events = await _traces(engine, kept)
    # Its steps, its message (not its unfinished reply), its stream.
    assert checkpoints > 0
    assert messages == 1
    assert events > 0
    # The graph's state holds the interrupted message too: the reply counts it.
    state = await on_b.get(
        f"/api/v1/conversations/{conversation}/checkpoints/{answer['assistant_message']['checkpoint_id']}"
    )
    assert [m["content"][:4] for m in state.json()["messages"] if m["role"] == "user"] == ["word", "inst"]

    removed, answer = await _superseded_from_b(clients, conversation, "rollback", "rather")
    assert answer["assistant_message"]["content"] == "Reply 3: you said “rather”."
    assert await _traces(engine, removed) == (0, 0, 0)
    assert [(r["status"], r["prompt"][:6]) for r in await _runs(on_a, conversation)] == [
        ("cancelled", "word w"),
        ("succeeded", "instea"),
        ("succeeded", "rather"),
    ]
    assert [(role, content[:6]) for role, content, _ in await _history(on_a, conversation)] == [
        ("user", "word w"),
        ("user", "instea"),
        ("assistant", "Reply "),
        ("user", "rather"),
        ("assistant", "Reply "),
    ]


async def test_an_agent_server_stream_rejoined_on_another_process_and_after_a_kill(
    servers: tuple[Server, Server], clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    """langgraph-sdk on A starts and drops a stream; on B it rejoins after the
    last event it saw, and follows a run whose process is then killed."""
    a, b = servers
    headers = {"Authorization": clients[0].headers["Authorization"]}
    sdk_a = get_client(url=f"{a.url}/langgraph", api_key=None, headers=headers)
    sdk_b = get_client(url=f"{b.url}/langgraph", api_key=None, headers=headers)
    try:
        thread = (await sdk_a.threads.create())["thread_id"]
        body: Any = {"messages": [{"role": "user", "content": LONG}]}
        seen = []
        async for part in sdk_a.runs.stream(thread, "chat", input=body, stream_mode=["messages-tuple"]):
            seen.append((part.event, part.data, part.id))
            if len(seen) == 15:
                break
        run_id = seen[0][1]["run_id"]
        after = sdk_b.runs.join_stream(thread, run_id, last_event_id=seen[-1][2])
        rest = [(p.event, p.data, p.id) async for p in after]
        whole = [(p.event, p.data, p.id) async for p in sdk_b.runs.join_stream(thread, run_id)]
        assert seen + rest == whole
        assert whole[-1][0] == "end"

        second = await sdk_a.runs.create(thread, "chat", input=body)
        await until(lambda: _sdk_status(sdk_b, thread, second["run_id"], "running"), "A running the run")
        assert a.stop(signal.SIGKILL) == -signal.SIGKILL
        followed = [p.event async for p in sdk_b.runs.join_stream(thread, second["run_id"])]
        assert followed[-1] == "error"
        assert (await sdk_b.runs.get(thread, second["run_id"]))["status"] == "error"
        assert (await sdk_b.threads.get(thread))["status"] == "error"
        next_turn: Any = {"messages": [{"role": "user", "content": "on"}]}
        values: Any = await sdk_b.runs.wait(thread, "chat", input=next_turn)
        assert values["messages"][-1]["content"].endswith("“on”.")
    finally:
        await sdk_a.aclose()
        await sdk_b.aclose()


async def _sdk_status(sdk: LangGraphClient, thread: str, run_id: str, status: str) -> bool:
    return bool((await sdk.runs.get(thread, run_id))["status"] == status)
