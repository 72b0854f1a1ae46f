"""Sending messages: JSON and SSE replies, runs recorded honestly, history, feedback, checkpoints."""

import asyncio
import gc
import json
import logging
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import get_persistence_config
from app.models import MultitaskStrategy, ThreadRun
from app.services.runs.spec import RunSpec
from tests.chat_models import FailingChatModel, GatedChatModel
from tests.http_client import Caller, CallerOn


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


async def _stream(caller: Caller, conversation: str, content: str) -> tuple[httpx.Response, str]:
    async with caller.client.stream(
        "POST",
        f"/api/v1/conversations/{conversation}/messages",
        json={"content": content},
        headers={"Accept": "text/event-stream"},
    ) as response:
        body = "".join([chunk async for chunk in response.aiter_text()])
    return response, body


class TestJsonReply:
    async def test_reply_and_history(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        response = await alice.send(conversation, "hello")
        assert response.status_code == 200
        reply = response.json()
        assert reply["user_message"]["content"] == "hello"
        assert reply["assistant_message"]["content"] == "Reply 1: you said “hello”."
        # Each is dated with the checkpoint it went in at: the input's, then the step's that answered.
        assert (
            None is not reply["user_message"]["checkpoint_id"] < reply["assistant_message"]["checkpoint_id"]
        )
        assert reply["run_id"] == reply["assistant_message"]["run_id"]

        history = (await alice.client.get(f"/api/v1/conversations/{conversation}/messages")).json()
        assert [m["id"] for m in history["items"]] == [
            reply["user_message"]["id"],
            reply["assistant_message"]["id"],
        ]
        assert history["next_before"] is None

    async def test_history_pages(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        for i in range(5):
            await alice.send(conversation, f"m{i}")
        url = f"/api/v1/conversations/{conversation}/messages"
        newest = (await alice.client.get(url, params={"limit": 4})).json()
        older = (await alice.client.get(url, params={"limit": 4, "before": newest["next_before"]})).json()
        oldest = (await alice.client.get(url, params={"limit": 4, "before": older["next_before"]})).json()
        contents = [m["content"] for page in (oldest, older, newest) for m in page["items"]]
        assert contents[0::2] == [f"m{i}" for i in range(5)]
        assert oldest["next_before"] is None
        for bad in ({"limit": 0}, {"limit": 201}, {"before": "abc"}, {"before": 0}):
            assert (await alice.client.get(url, params=bad)).status_code == 422, bad

    async def test_runs_are_recorded_with_timing(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        reply = (await alice.send(conversation, "time me")).json()
        runs = (await alice.client.get(f"/api/v1/conversations/{conversation}/runs")).json()["items"]
        assert len(runs) == 1
        run = runs[0]
        assert (run["run_id"], run["prompt"], run["status"]) == (reply["run_id"], "time me", "succeeded")
        assert run["finished_at"] >= run["started_at"]
        assert run["duration_ms"] >= 0
        assert run["checkpoint_id"] == reply["assistant_message"]["checkpoint_id"]


class TestBadMessages:
    async def test_bad_content_is_a_4xx_and_records_nothing(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        url = f"/api/v1/conversations/{conversation}/messages"
        cases: list[tuple[Any, int]] = [
            ({"content": ""}, 422),
            ({"content": "   "}, 422),
            ({"content": 123}, 422),
            ({"content": None}, 422),
            ({}, 422),
            ({"content": "x", "extra": 1}, 422),
            ({"content": "nul\x00"}, 422),
            ({"content": "x" * (get_persistence_config().max_message_chars + 1)}, 413),
        ]
        for body, status in cases:
            response = await alice.client.post(url, json=body)
            assert response.status_code == status, body
            assert set(response.json()) == {"error", "detail"}
        malformed = await alice.client.post(
            url, content=b'{"content": ', headers={"Content-Type": "application/json"}
        )
        assert malformed.status_code == 422
        assert (await alice.client.get(f"/api/v1/conversations/{conversation}/runs")).json()["items"] == []
        assert (await alice.client.get(url)).json()["items"] == []

    async def test_unknown_conversation(self, alice: Caller) -> None:
        response = await alice.send(str(uuid.uuid4()), "anyone?")
        assert response.status_code == 404
        assert response.json()["error"] == "ConversationNotFound"


class TestEventStream:
    async def test_events_in_order_and_tokens_add_up(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        response, body = await _stream(alice, conversation, "stream this")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(body)
        names = [name for name, _ in events]
        assert names[0] == "message"
        assert names[-2:] == ["message", "done"]
        assert set(names[1:-2]) == {"token"}
        assert len(names[1:-2]) > 1
        user, assistant, done = events[0][1], events[-2][1], events[-1][1]
        assert (user["role"], user["content"]) == ("user", "stream this")
        assert "".join(data["text"] for name, data in events if name == "token") == assistant["content"]
        assert done == {
            "run_id": assistant["run_id"],
            "status": "succeeded",
            "checkpoint_id": assistant["checkpoint_id"],
        }
        stored = (await alice.client.get(f"/api/v1/conversations/{conversation}/messages")).json()["items"]
        assert stored[-1]["content"] == assistant["content"]


class TestFailures:
    async def test_a_failing_agent_keeps_the_message_and_fails_the_run(self, caller_on: CallerOn) -> None:
        caller = await caller_on(FailingChatModel())
        client = caller.client
        conversation = await caller.conversation()
        response = await caller.send(conversation, "will this work?")
        assert response.status_code == 502
        assert response.json()["error"] == "AgentFailed"
        assert "ConnectionAbortedError" in response.json()["detail"]

        _, body = await _stream(caller, conversation, "and now?")
        events = parse_sse(body)
        assert [name for name, _ in events] == ["message", "error"]
        assert events[-1][1]["error"] == "ConnectionAbortedError"

        history = (await client.get(f"/api/v1/conversations/{conversation}/messages")).json()["items"]
        assert [(m["role"], m["content"]) for m in history] == [
            ("user", "will this work?"),
            ("user", "and now?"),
        ]
        runs = (await client.get(f"/api/v1/conversations/{conversation}/runs")).json()["items"]
        assert {(r["status"], r["error_kind"]) for r in runs} == {("failed", "ConnectionAbortedError")}
        assert all(r["finished_at"] for r in runs)

    async def test_a_stale_running_run_does_not_block_the_conversation(
        self, alice: Caller, engine: AsyncEngine
    ) -> None:
        conversation = await alice.conversation()
        async with engine.begin() as conn:
            await conn.execute(
                insert(ThreadRun).values(
                    conversation_id=uuid.UUID(conversation),
                    user_id=alice.id,
                    prompt="lost in a crash",
                    lease_expires_at=text("now() - interval '1 second'"),
                )
            )
        assert (await alice.send(conversation, "after the crash")).status_code == 200
        runs = {
            r["prompt"]: r
            for r in (await alice.client.get(f"/api/v1/conversations/{conversation}/runs")).json()["items"]
        }
        assert (runs["lost in a crash"]["status"], runs["lost in a crash"]["error_kind"]) == (
            "failed",
            "Interrupted",
        )
        assert runs["after the crash"]["status"] == "succeeded"


class TestConcurrency:
    async def test_a_second_message_during_a_run_is_a_conflict(self, caller_on: CallerOn) -> None:
        model = GatedChatModel()
        caller = await caller_on(model)
        client = caller.client
        conversation = await caller.conversation()
        first = asyncio.create_task(caller.send(conversation, "first"))
        await model.started.wait()
        second = await caller.send(conversation, "second")
        assert second.status_code == 409
        assert second.json()["error"] == "RunInProgress"
        model.gate.set()
        assert (await first).status_code == 200
        history = (await client.get(f"/api/v1/conversations/{conversation}/messages")).json()["items"]
        assert [m["content"] for m in history] == ["first", "Reply 1: you said “first”."]
        # Once the run is done, the conversation takes messages again.
        assert (await caller.send(conversation, "third")).status_code == 200

    async def test_messages_to_many_conversations_at_once(self, alice: Caller) -> None:
        conversations = [await alice.conversation() for _ in range(10)]
        replies = await asyncio.gather(*(alice.send(c, f"hi {c}") for c in conversations))
        for conversation, reply in zip(conversations, replies, strict=True):
            assert reply.status_code == 200
            assert reply.json()["assistant_message"]["content"] == f"Reply 1: you said “hi {conversation}”."

    async def test_a_run_outlives_a_listener_that_leaves(self, caller_on: CallerOn) -> None:
        model = GatedChatModel()
        caller = await caller_on(model)
        client = caller.client
        conversation = await caller.conversation()
        runner = caller.app.state.chat_runner
        spec = RunSpec.message("are you there?", MultitaskStrategy.REJECT)
        run = await runner.start(caller.id, uuid.UUID(conversation), spec)
        events = runner.follow(run.run_id)
        assert (await anext(events))[1].__class__.__name__ == "RunStarted"
        await events.aclose()  # the listener leaves mid-run
        model.gate.set()
        reply = await runner.local.get(run.run_id).reply()
        assert reply.content == "Reply 1: you said “are you there?”."
        runs = (await client.get(f"/api/v1/conversations/{conversation}/runs")).json()["items"]
        assert runs[0]["status"] == "succeeded"

    async def test_shutdown_interrupts_a_run_and_records_it(
        self, caller_on: CallerOn, engine: AsyncEngine
    ) -> None:
        model = GatedChatModel()
        caller = await caller_on(model)
        conversation = uuid.UUID(await caller.conversation())
        spec = RunSpec.message("never finished", MultitaskStrategy.REJECT)
        run = await caller.app.state.chat_runner.start(caller.id, conversation, spec)
        await model.started.wait()
        await caller.app.state.chat_runner.shutdown(grace=0.05)
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT status, error_kind FROM thread_runs WHERE run_id = :r"),
                    {"r": run.run_id},
                )
            ).one()
        assert tuple(row) == ("failed", "Interrupted")


class TestFeedback:
    async def test_record_change_and_clear(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        run_id = (await alice.send(conversation, "rate me")).json()["run_id"]
        url = f"/api/v1/runs/{run_id}/feedback"
        good = (await alice.client.put(url, json={"sentiment": "positive", "comment": "spot on"})).json()
        assert (good["sentiment"], good["comment"]) == ("positive", "spot on")
        bad = (await alice.client.put(url, json={"sentiment": "negative"})).json()
        assert (bad["sentiment"], bad["comment"]) == ("negative", None)
        cleared = (await alice.client.put(url, json={"sentiment": None, "comment": "ignored"})).json()
        assert (cleared["sentiment"], cleared["comment"]) == (None, None)
        runs = (await alice.client.get(f"/api/v1/conversations/{conversation}/runs")).json()["items"]
        assert runs[0]["sentiment"] is None

    async def test_bad_feedback(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        run_id = (await alice.send(conversation, "x")).json()["run_id"]
        url = f"/api/v1/runs/{run_id}/feedback"
        for body in ({"sentiment": "meh"}, {}, {"sentiment": "positive", "comment": "x" * 2001}):
            assert (await alice.client.put(url, json=body)).status_code == 422, body
        missing = await alice.client.put(
            f"/api/v1/runs/{uuid.uuid4()}/feedback", json={"sentiment": "positive"}
        )
        assert (missing.status_code, missing.json()["error"]) == (404, "RunNotFound")


class TestCheckpoints:
    async def test_list_page_and_state(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        await alice.send(conversation, "one")
        await alice.send(conversation, "two")
        url = f"/api/v1/conversations/{conversation}/checkpoints"
        first = (await alice.client.get(url, params={"limit": 4})).json()
        rest = (await alice.client.get(url, params={"limit": 4, "before": first["next_before"]})).json()
        ids = [c["id"] for c in first["items"] + rest["items"]]
        assert len(ids) == 6
        assert ids == sorted(ids, reverse=True)
        assert rest["next_before"] is None
        newest = first["items"][0]
        assert (newest["step"], newest["source"], newest["parent_id"]) == (4, "loop", first["items"][1]["id"])

        state = (await alice.client.get(f"{url}/{newest['id']}")).json()
        assert [(m["role"], m["content"]) for m in state["messages"]] == [
            ("user", "one"),
            ("assistant", "Reply 1: you said “one”."),
            ("user", "two"),
            ("assistant", "Reply 2: you said “two”."),
        ]
        earlier = (await alice.client.get(f"{url}/{ids[3]}")).json()
        assert [m["content"] for m in earlier["messages"]] == ["one", "Reply 1: you said “one”."]
        missing = await alice.client.get(f"{url}/no-such-checkpoint")
        assert (missing.status_code, missing.json()["error"]) == (404, "CheckpointNotFound")


class TestDeletedMidRun:
    """A conversation deleted while its run goes on: the run answers as a missing
    conversation does, and nothing of the database's wording reaches the client."""

    @staticmethod
    def _no_database_text(body: str) -> None:
        for word in ("SELECT", "INSERT", "fkey", "ForeignKeyViolation", "NoResultFound", "sqlalche"):
            assert word not in body, body

    async def test_the_json_reply_is_404(self, caller_on: CallerOn, caplog: pytest.LogCaptureFixture) -> None:
        model = GatedChatModel()
        caller = await caller_on(model)
        conversation = await caller.conversation()
        sent = asyncio.create_task(caller.send(conversation, "first"))
        await model.started.wait()
        assert (await caller.client.delete(f"/api/v1/conversations/{conversation}")).status_code == 204
        model.gate.set()
        response = await sent
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "ConversationNotFound"
        self._no_database_text(response.text)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    @pytest.mark.parametrize("protocol", ["events", "ui"])
    async def test_a_stream_ends_with_conversation_not_found(
        self, caller_on: CallerOn, caplog: pytest.LogCaptureFixture, protocol: str
    ) -> None:
        model = GatedChatModel()
        caller = await caller_on(model)
        conversation = await caller.conversation()

        async def stream() -> str:
            url = f"/api/v1/conversations/{conversation}/messages?stream={protocol}"
            async with caller.client.stream("POST", url, json={"content": "first"}) as response:
                return "".join([chunk async for chunk in response.aiter_text()])

        streamed = asyncio.create_task(stream())
        await model.started.wait()
        assert (await caller.client.delete(f"/api/v1/conversations/{conversation}")).status_code == 204
        model.gate.set()
        body = await streamed
        assert "ConversationNotFound" in body
        self._no_database_text(body)
        gc.collect()  # an unretrieved task exception is reported when the task is collected
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


class TestLogs:
    async def test_logs_name_ids_never_an_email_or_what_was_written(
        self, caller_on: CallerOn, caplog: pytest.LogCaptureFixture
    ) -> None:
        caller = await caller_on(FailingChatModel())
        conversation = await caller.conversation()
        prompt = "my private question about my health"
        with caplog.at_level(logging.DEBUG):
            assert (await caller.send(conversation, prompt)).status_code == 502
            wrong = {"username": caller.email, "password": "not my password at all"}
            assert (await caller.client.post("/auth/jwt/login", data=wrong)).status_code == 400
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert caplog.records  # the failed run is logged, by its id
        # Where it failed, for whoever wrote the graph: the frames, not what the run was given.
        assert 'chat_models.py", line' in logged
        assert "in _generate" in logged
        assert prompt not in logged
        assert caller.email not in logged
