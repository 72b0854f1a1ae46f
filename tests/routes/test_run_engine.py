"""The run engine through the chat API, on real PostgreSQL: stored events
replayed from any id, joins, multitask strategies, cancels and leases.

Two apps in this process stand for two app processes: each has its own
runner, leases and in-memory runs, and they share only the database (the
process tests do the same with real uvicorn processes and kill -9).
"""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Message, RunEvent, ThreadRun
from app.routes.sse import HEARTBEAT, with_heartbeats
from tests.chat_models import GatedChatModel
from tests.conditions import until
from tests.http_client import AppFactory, Caller, CallerOn, asgi_client

Frame = tuple[int | None, str]


def frames_of(body: str) -> list[Frame]:
    """(event id or None, the rest of the frame) of each SSE frame, heartbeats included."""
    frames: list[Frame] = []
    for raw in body.split("\n\n")[:-1]:
        if raw.startswith("id: "):
            seq, rest = raw.removeprefix("id: ").split("\n", 1)
            frames.append((int(seq), rest))
        else:
            frames.append((None, raw))
    return frames


def after(frames: list[Frame], last_id: int) -> list[Frame]:
    """The frames a client that saw event `last_id` still needs: those of later events."""
    ends = [i for i, (seq, _) in enumerate(frames) if seq is not None and seq <= last_id]
    return frames[ends[-1] + 1 :] if ends else frames


def named(frames: list[Frame]) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for _, frame in frames:
        lines = dict(line.split(": ", 1) for line in frame.splitlines() if not line.startswith(":"))
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


async def read(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> tuple[httpx.Response, str]:
    async with client.stream(method, url, **kwargs) as response:
        body = "".join([chunk async for chunk in response.aiter_text()])
    return response, body


def messages_url(conversation: str, stream: str | None = None) -> str:
    query = f"?stream={stream}" if stream else ""
    return f"/api/v1/conversations/{conversation}/messages{query}"


async def run_rows(engine: AsyncEngine, conversation: str) -> list[Any]:
    async with engine.connect() as conn:
        statement = (
            select(ThreadRun.run_id, ThreadRun.status, ThreadRun.prompt, ThreadRun.error_kind)
            .where(ThreadRun.conversation_id == uuid.UUID(conversation))
            .order_by(ThreadRun.started_at)
        )
        return list(await conn.execute(statement))


async def history(caller: Caller, conversation: str) -> list[tuple[str, str, str]]:
    items = (await caller.client.get(f"/api/v1/conversations/{conversation}/messages")).json()["items"]
    return [(m["role"], m["content"], m["status"]) for m in items]


@pytest.fixture
async def pair(
    caller_on: CallerOn, app_factory: AppFactory
) -> AsyncIterator[tuple[Caller, Caller, GatedChatModel]]:
    """One user on two apps: A answers with a gated model, B with the local one."""
    model = GatedChatModel()
    a = await caller_on(model)
    b_app = await app_factory()
    b = Caller(a.id, a.email, asgi_client(b_app, headers=a.client.headers), b_app)
    yield a, b, model
    await b.client.aclose()


@asynccontextmanager
async def gated_stream(
    a: Caller, conversation: str, model: GatedChatModel
) -> AsyncIterator[asyncio.Task[Any]]:
    """A's run streaming (named events) and held after its first token."""
    task = asyncio.create_task(
        read(a.client, "POST", messages_url(conversation, "events"), json={"content": "first"})
    )
    await model.started.wait()
    try:
        yield task
    finally:
        model.gate.set()
        await task


class TestReplay:
    async def test_every_last_event_id_gives_exactly_the_events_after_it(
        self, alice: Caller, app_factory: AppFactory
    ) -> None:
        conversation = await alice.conversation()
        _response, body = await read(
            alice.client, "POST", messages_url(conversation, "events"), json={"content": "count the tokens"}
        )
        live = frames_of(body)
        ids = [seq for seq, _ in live if seq is not None]
        assert ids == list(range(1, len(ids) + 1))
        run_id = named(live)[-1][1]["run_id"]
        url = f"/api/v1/conversations/{conversation}/runs/{run_id}/stream"
        other = asgi_client(await app_factory(), headers=alice.client.headers)
        try:
            for client in (alice.client, other):  # the process that ran it, and another
                for last in range(len(ids) + 1):
                    _, replayed = await read(client, "GET", url, headers={"Last-Event-ID": str(last)})
                    assert frames_of(replayed) == after(live, last), last
        finally:
            await other.aclose()

    async def test_the_ui_stream_resumes_mid_run_with_its_text_part_open(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        _, body = await read(
            alice.client, "POST", messages_url(conversation, "ui"), json={"content": "hello"}
        )
        live = frames_of(body)
        run_id = json.loads(live[1][1].removeprefix("data: "))["data"]["run_id"]
        url = f"/api/v1/conversations/{conversation}/runs/{run_id}/stream?stream=ui"
        ids = [seq for seq, _ in live if seq is not None]
        for last in ids:
            _, replayed = await read(alice.client, "GET", url, headers={"Last-Event-ID": str(last)})
            # No text-start again for a text part begun before the id: the deltas continue it.
            assert frames_of(replayed) == after(live, last), last

    async def test_tokens_are_stored_in_batches_not_one_row_each(
        self, alice: Caller, engine: AsyncEngine
    ) -> None:
        conversation = await alice.conversation()
        _, body = await read(
            alice.client, "POST", messages_url(conversation, "events"), json={"content": "word " * 200}
        )
        tokens = sum(1 for name, _ in named(frames_of(body)) if name == "token")
        assert tokens > 100
        async with engine.connect() as conn:
            rows = await conn.scalar(
                select(func.count())
                .select_from(RunEvent)
                .join(ThreadRun)
                .where(ThreadRun.conversation_id == uuid.UUID(conversation))
            )
        assert rows is not None
        assert rows <= 3

    async def test_a_run_that_ended_unseen_past_its_stored_events_still_ends(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        _, body = await read(
            alice.client, "POST", messages_url(conversation, "events"), json={"content": "hi"}
        )
        live = frames_of(body)
        run_id = named(live)[-1][1]["run_id"]
        last = max(seq for seq, _ in live if seq is not None)
        url = f"/api/v1/conversations/{conversation}/runs/{run_id}/stream"
        # A client that saw events its dead process never stored learns the end all the same.
        _, replayed = await read(alice.client, "GET", url, headers={"Last-Event-ID": str(last + 5)})
        assert named(frames_of(replayed)) == [named(live)[-1]]


class TestJoin:
    async def test_another_process_joins_a_live_run_and_sees_what_its_client_sees(
        self, pair: tuple[Caller, Caller, GatedChatModel]
    ) -> None:
        a, b, model = pair
        conversation = await a.conversation()
        async with gated_stream(a, conversation, model) as sent:
            joined = asyncio.create_task(
                read(b.client, "GET", f"/api/v1/conversations/{conversation}/stream?stream=events")
            )
            # B reads the stored start; the rest comes as A stores it.
            await until(lambda: _active(b, conversation), "B sees the run active")
        (_, a_body), (response, b_body) = await sent, await joined
        assert response.status_code == 200
        assert frames_of(b_body) == frames_of(a_body)
        assert named(frames_of(b_body))[-1][1]["status"] == "succeeded"

    async def test_no_active_run_is_204(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        assert (await alice.client.get(f"/api/v1/conversations/{conversation}/stream")).status_code == 204
        await alice.send(conversation, "done already")
        assert (await alice.client.get(f"/api/v1/conversations/{conversation}/stream")).status_code == 204

    async def test_an_idle_stream_sends_heartbeats_and_loses_nothing(self) -> None:
        # In-process clients read a response whole; the process tests watch one over HTTP.
        ready = asyncio.Event()

        async def frames() -> AsyncIterator[bytes]:
            yield b"one"
            await ready.wait()
            yield b"two"

        stream = with_heartbeats(frames(), 0.01)
        assert await anext(stream) == b"one"
        assert await anext(stream) == HEARTBEAT
        assert await anext(stream) == HEARTBEAT
        ready.set()
        rest = [frame async for frame in stream]
        assert rest[-1] == b"two"
        assert set(rest[:-1]) <= {HEARTBEAT}

    async def test_another_users_run_is_404(self, alice: Caller, bob: Caller) -> None:
        conversation = await alice.conversation()
        run_id = (await alice.send(conversation, "mine")).json()["run_id"]
        for path in (f"runs/{run_id}", f"runs/{run_id}/stream", "stream"):
            assert (await bob.client.get(f"/api/v1/conversations/{conversation}/{path}")).status_code == 404
        cancel = f"/api/v1/conversations/{conversation}/runs/{run_id}/cancel"
        assert (await bob.client.post(cancel)).status_code == 404


async def _active(caller: Caller, conversation: str) -> bool:
    runs = (await caller.client.get(f"/api/v1/conversations/{conversation}/runs")).json()["items"]
    return any(r["status"] == "running" for r in runs)


class TestMultitask:
    async def test_reject_is_the_default(self, pair: tuple[Caller, Caller, GatedChatModel]) -> None:
        a, b, model = pair
        conversation = await a.conversation()
        async with gated_stream(a, conversation, model):
            response = await b.send(conversation, "too soon")
            assert response.status_code == 409
            assert response.json()["error"] == "RunInProgress"

    async def test_enqueue_runs_in_order_whichever_process_took_it(
        self, pair: tuple[Caller, Caller, GatedChatModel], engine: AsyncEngine
    ) -> None:
        a, b, model = pair
        conversation = await a.conversation()
        async with gated_stream(a, conversation, model):
            second = _send(b, conversation, "second", "enqueue")
            await until(lambda: _pending(engine, conversation, 1), "the second run queued")
            third = asyncio.create_task(
                a.client.post(
                    messages_url(conversation, "events"),
                    json={"content": "third", "multitask_strategy": "enqueue"},
                )
            )
            await until(lambda: _pending(engine, conversation, 2), "the third run queued")
        replies = [await second]
        assert replies[0].status_code == 200, replies[0].text
        assert "“second”" in replies[0].json()["assistant_message"]["content"]
        assert named(frames_of((await third).text))[-1][1]["status"] == "succeeded"
        assert [role for role, _, _ in await history(a, conversation)] == ["user", "assistant"] * 3
        contents = [content for role, content, _ in await history(a, conversation) if role == "user"]
        assert contents == ["first", "second", "third"]
        assert [row.status for row in await run_rows(engine, conversation)] == ["succeeded"] * 3

    async def test_interrupt_stops_the_run_keeping_its_work_then_runs_the_new_one(
        self, pair: tuple[Caller, Caller, GatedChatModel], engine: AsyncEngine
    ) -> None:
        a, _, _ = pair
        conversation, _, first_body, response = await _superseded(pair, engine, "interrupt")
        assert named(frames_of(first_body))[-1][1] | {"run_id": None} == {
            "run_id": None,
            "status": "cancelled",
            "checkpoint_id": None,
            "action": "interrupt",
        }
        statuses = [(row.prompt, row.status) for row in await run_rows(engine, conversation)]
        assert statuses == [("first", "cancelled"), ("instead", "succeeded")]
        # The first message stays (in the history and the graph's state); its unfinished reply does not.
        assert [(role, content) for role, content, _ in await history(a, conversation)] == [
            ("user", "first"),
            ("user", "instead"),
            # The graph's state kept the first message: the reply counts it.
            ("assistant", "Reply 2: you said “instead”."),
        ]
        checkpoint = response.json()["assistant_message"]["checkpoint_id"]
        state = (await a.client.get(f"/api/v1/conversations/{conversation}/checkpoints/{checkpoint}")).json()
        assert [m["content"] for m in state["messages"] if m["role"] == "user"] == ["first", "instead"]

    async def test_rollback_leaves_no_trace_of_the_stopped_run(
        self, pair: tuple[Caller, Caller, GatedChatModel], engine: AsyncEngine
    ) -> None:
        a, _, _ = pair
        conversation, first_run, first_body, response = await _superseded(pair, engine, "rollback")
        assert named(frames_of(first_body))[-1][1]["action"] == "rollback"
        assert [row.prompt for row in await run_rows(engine, conversation)] == ["instead"]
        assert [(r, c) for r, c, _ in await history(a, conversation)] == [
            ("user", "instead"),
            ("assistant", "Reply 1: you said “instead”."),
        ]
        listed = (await a.client.get(f"/api/v1/conversations/{conversation}")).json()
        assert (listed["message_count"], listed["last_message_preview"]) == (
            2,
            "Reply 1: you said “instead”.",
        )
        async with engine.connect() as conn:
            left = await conn.scalar(
                text(
                    "SELECT (SELECT count(*) FROM checkpoints WHERE metadata->>'run_id' = :r)"
                    " + (SELECT count(*) FROM messages WHERE run_id = :u)"
                    " + (SELECT count(*) FROM run_events WHERE run_id = :u)"
                ),
                {"r": str(first_run), "u": first_run},
            )
        assert left == 0
        checkpoint = response.json()["assistant_message"]["checkpoint_id"]
        state = (await a.client.get(f"/api/v1/conversations/{conversation}/checkpoints/{checkpoint}")).json()
        assert [m["content"] for m in state["messages"] if m["role"] == "user"] == ["instead"]


async def _superseded(
    pair: tuple[Caller, Caller, GatedChatModel], engine: AsyncEngine, strategy: str
) -> tuple[str, uuid.UUID, str, httpx.Response]:
    """A's gated run, then "instead" sent to B with `strategy`: the conversation,
    the first run, its stream as A's client read it, and the answer to B."""
    a, b, model = pair
    conversation = await a.conversation()
    async with gated_stream(a, conversation, model) as sent:
        first_run = await _running_run(engine, conversation)
        # Either app may take the new run, the gated one too: awaited once the gate opens.
        instead = _send(b, conversation, "instead", strategy)
        await until(lambda: _ended(engine, first_run), "the first run stopped")
        _, first_body = await sent
    response = await instead
    assert response.status_code == 200, response.text
    return conversation, first_run, first_body, response


def _send(caller: Caller, conversation: str, content: str, strategy: str) -> "asyncio.Task[httpx.Response]":
    """A JSON message with `strategy`, in flight: await it once it can be answered."""
    body = {"content": content, "multitask_strategy": strategy}
    return asyncio.create_task(caller.client.post(messages_url(conversation), json=body))


async def _ended(engine: AsyncEngine, run_id: uuid.UUID) -> bool:
    async with engine.connect() as conn:
        status = await conn.scalar(select(ThreadRun.status).where(ThreadRun.run_id == run_id))
    return status not in ("running", "pending")


async def _pending(engine: AsyncEngine, conversation: str, count: int) -> bool:
    return bool(sum(row.status == "pending" for row in await run_rows(engine, conversation)) == count)


async def _running_run(engine: AsyncEngine, conversation: str) -> uuid.UUID:
    run_id: uuid.UUID = next(r.run_id for r in await run_rows(engine, conversation) if r.status == "running")
    return run_id


class TestCancel:
    async def test_cancel_from_another_process_with_wait(
        self, pair: tuple[Caller, Caller, GatedChatModel], engine: AsyncEngine
    ) -> None:
        a, b, model = pair
        conversation = await a.conversation()
        async with gated_stream(a, conversation, model) as sent:
            run_id = await _running_run(engine, conversation)
            url = f"/api/v1/conversations/{conversation}/runs/{run_id}/cancel?wait=true"
            response = await b.client.post(url)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "cancelled"
            _, body = await sent
        assert named(frames_of(body))[-1][0] == "done"
        again = await b.client.post(url)
        assert again.status_code == 409
        assert again.json()["error"] == "RunNotActive"
        # The conversation is free again.
        assert (await a.client.get(f"/api/v1/conversations/{conversation}/stream")).status_code == 204

    async def test_rollback_with_wait_is_204_and_removes_the_run(
        self, pair: tuple[Caller, Caller, GatedChatModel], engine: AsyncEngine
    ) -> None:
        a, b, model = pair
        conversation = await a.conversation()
        async with gated_stream(a, conversation, model):
            run_id = await _running_run(engine, conversation)
            url = f"/api/v1/conversations/{conversation}/runs/{run_id}/cancel?action=rollback&wait=true"
            assert (await b.client.post(url)).status_code == 204
        assert await run_rows(engine, conversation) == []
        assert await history(a, conversation) == []
        listed = (await a.client.get(f"/api/v1/conversations/{conversation}")).json()
        assert (listed["message_count"], listed["last_message_preview"]) == (0, None)

    async def test_a_queued_run_is_cancelled_at_once(
        self, pair: tuple[Caller, Caller, GatedChatModel], engine: AsyncEngine
    ) -> None:
        a, b, model = pair
        conversation = await a.conversation()
        async with gated_stream(a, conversation, model):
            queued = _send(b, conversation, "later", "enqueue")
            await until(lambda: _pending(engine, conversation, 1), "the run queued")
            pending = next(r.run_id for r in await run_rows(engine, conversation) if r.status == "pending")
            response = await a.client.post(f"/api/v1/conversations/{conversation}/runs/{pending}/cancel")
            assert response.status_code == 202
            waited = await queued
            assert waited.status_code == 409
            assert waited.json()["error"] == "RunCancelled"
        assert [row.status for row in await run_rows(engine, conversation)] == ["succeeded", "cancelled"]


class TestLeases:
    async def test_a_run_whose_process_died_is_interrupted_and_the_queue_moves_on(
        self, alice: Caller, engine: AsyncEngine
    ) -> None:
        conversation = uuid.UUID(await alice.conversation())
        dead, queued = uuid.uuid4(), uuid.uuid4()
        async with engine.begin() as conn:
            # A run held by a process that is gone: its lease ran out, its reply half done.
            await conn.execute(
                insert(ThreadRun).values(
                    run_id=dead,
                    conversation_id=conversation,
                    user_id=alice.id,
                    prompt="lost",
                    lease_owner=uuid.uuid4(),
                    lease_expires_at=text("now() - interval '1 second'"),
                    started_at=text("now() - interval '1 minute'"),
                )
            )
            await conn.execute(
                insert(Message).values(
                    conversation_id=conversation,
                    run_id=dead,
                    role="assistant",
                    content="half",
                    status="streaming",
                )
            )
            await conn.execute(
                insert(ThreadRun).values(
                    run_id=queued,
                    conversation_id=conversation,
                    user_id=alice.id,
                    prompt="next",
                    status="pending",
                )
            )

        async def _queued_done() -> bool:
            rows = {row.run_id: row for row in await run_rows(engine, str(conversation))}
            return bool(rows[queued].status == "succeeded")

        await until(_queued_done, "a process noticed the lapsed lease and ran the queue")
        rows = {row.run_id: row for row in await run_rows(engine, str(conversation))}
        assert (rows[dead].status, rows[dead].error_kind) == ("failed", "Interrupted")
        assert [(r, c) for r, c, _ in await history(alice, str(conversation))] == [
            ("user", "next"),
            ("assistant", "Reply 1: you said “next”."),
        ]
        url = f"/api/v1/conversations/{conversation}/runs/{dead}/stream"
        _, body = await read(alice.client, "GET", url)
        assert named(frames_of(body)) == [
            (
                "error",
                {
                    "error": "Interrupted",
                    "detail": "The run did not finish: its process stopped.",
                    "run_id": str(dead),
                },
            )
        ]
