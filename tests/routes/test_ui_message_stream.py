"""The AI SDK UI message stream (protocol v1), checked against the protocol's frame rules."""

import asyncio
import json
import uuid
from typing import Any

import httpx
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.agents.local_model import LocalChatModel
from app.models import Message, ThreadRun
from tests.chat_models import BrokenStreamChatModel, GatedChatModel
from tests.http_client import Caller, CallerOn

# Each chunk type's required and optional fields, as AI SDK 5 and 6 validate
# them (strict objects: any other field makes the client reject the frame).
FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "start": ({"type"}, {"messageId", "messageMetadata"}),
    "start-step": ({"type"}, set()),
    "text-start": ({"type", "id"}, {"providerMetadata"}),
    "text-delta": ({"type", "id", "delta"}, {"providerMetadata"}),
    "text-end": ({"type", "id"}, {"providerMetadata"}),
    "finish-step": ({"type"}, set()),
    "error": ({"type", "errorText"}, set()),
    "tool-input-start": ({"type", "toolCallId", "toolName"}, {"providerExecuted", "dynamic"}),
    "tool-input-available": ({"type", "toolCallId", "toolName", "input"}, {"providerExecuted", "dynamic"}),
    "tool-output-available": ({"type", "toolCallId", "output"}, {"providerExecuted", "dynamic"}),
    "tool-output-error": ({"type", "toolCallId", "errorText"}, {"providerExecuted", "dynamic"}),
    "finish": ({"type"}, {"messageMetadata"}),
    "data-*": ({"type", "data"}, {"id", "transient"}),
}


def check_ui_message_stream(response: httpx.Response, body: str) -> list[dict[str, Any]]:
    """The parts of a stream that keeps the protocol's rules; AssertionError otherwise."""
    assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
    assert response.headers["content-type"].startswith("text/event-stream")
    assert body.endswith("\n\n")
    frames, ids = [], []
    for raw in body.split("\n\n")[:-1]:
        frame = raw
        if raw.startswith("id: "):
            seq, frame = raw.removeprefix("id: ").split("\n", 1)
            ids.append(int(seq))
        frames.append(frame)
    # Event numbers go up, each event's on its last frame: a reconnect resumes after it.
    assert ids == sorted(set(ids)), ids
    assert all(frame.startswith("data: ") and "\n" not in frame for frame in frames), frames
    assert frames[-1] == "data: [DONE]"
    parts = [json.loads(frame.removeprefix("data: ")) for frame in frames[:-1]]
    open_text: set[str] = set()
    called: set[str] = set()
    for part in parts:
        kind = "data-*" if part["type"].startswith("data-") else part["type"]
        assert kind in FIELDS, part
        required, optional = FIELDS[kind]
        assert required <= part.keys() <= required | optional, part
        match kind:
            case "text-start":
                assert part["id"] not in open_text
                open_text.add(part["id"])
            case "text-delta":
                assert part["id"] in open_text, "a delta outside text-start/text-end"
            case "text-end":
                open_text.remove(part["id"])
            case "tool-input-available":
                called.add(part["toolCallId"])
            case "tool-output-available" | "tool-output-error":
                assert part["toolCallId"] in called, "a tool result before its call"
    assert not open_text, "a text part was never ended"
    assert parts[0]["type"] == "start"
    assert parts[-1]["type"] == "finish"
    assert [p["type"] for p in parts].count("finish") == 1
    return parts


async def _stream_ui(
    client: httpx.AsyncClient, conversation: str, content: str
) -> tuple[httpx.Response, str]:
    async with client.stream(
        "POST", f"/api/v1/conversations/{conversation}/messages?stream=ui", json={"content": content}
    ) as response:
        body = "".join([chunk async for chunk in response.aiter_text()])
    return response, body


def _data(parts: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [p for p in parts if p["type"] == f"data-{kind}"]


def _text(parts: list[dict[str, Any]]) -> str:
    return "".join(p["delta"] for p in parts if p["type"] == "text-delta")


class TestUIMessageStream:
    async def test_frames_keep_the_rules_and_the_text_is_what_was_stored(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        await alice.send(conversation, "first")
        response, body = await _stream_ui(alice.client, conversation, "stream this")
        assert response.status_code == 200
        parts = check_ui_message_stream(response, body)
        assert len([p for p in parts if p["type"] == "text-delta"]) > 1

        history = (await alice.client.get(f"/api/v1/conversations/{conversation}/messages")).json()["items"]
        user, reply = history[-2:]
        assert _text(parts) == reply["content"] == "Reply 2: you said “stream this”."
        assert parts[0]["messageId"] == str(reply["id"])
        [user_part] = _data(parts, "user-message")
        assert (user_part["id"], user_part["data"]["content"]) == (str(user["id"]), "stream this")
        [reply_part] = _data(parts, "assistant-message")
        assert reply_part["id"] == str(reply["id"])
        assert reply_part["data"]["checkpoint_id"] == reply["checkpoint_id"] is not None
        # The run's part comes twice with one id: running, then its outcome.
        started, finished = _data(parts, "run")
        assert started["id"] == finished["id"] == reply["run_id"]
        assert started["data"]["status"] == "running"
        assert finished["data"] == {
            "run_id": reply["run_id"],
            "status": "succeeded",
            "checkpoint_id": reply["checkpoint_id"],
        }

    async def test_the_named_event_stream_is_still_there(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        async with alice.client.stream(
            "POST", f"/api/v1/conversations/{conversation}/messages?stream=events", json={"content": "hi"}
        ) as response:
            body = "".join([chunk async for chunk in response.aiter_text()])
        assert "x-vercel-ai-ui-message-stream" not in response.headers
        assert body.startswith("id: 1\nevent: message\n")
        assert body.rstrip().splitlines()[-2] == "event: done"

    async def test_an_unknown_protocol_is_refused(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        response = await alice.client.post(
            f"/api/v1/conversations/{conversation}/messages?stream=smoke-signals", json={"content": "hi"}
        )
        assert response.status_code == 422
        assert (await alice.client.get(f"/api/v1/conversations/{conversation}/runs")).json()["items"] == []

    async def test_an_error_mid_reply_closes_the_stream_cleanly(self, caller_on: CallerOn) -> None:
        caller = await caller_on(BrokenStreamChatModel())
        client = caller.client
        conversation = await caller.conversation()
        response, body = await _stream_ui(client, conversation, "tell me everything")
        parts = check_ui_message_stream(response, body)
        assert _text(parts) == "Reply 1: "
        types = [p["type"] for p in parts]
        assert types.index("text-end") < types.index("error") < types.index("finish")
        [error] = [p for p in parts if p["type"] == "error"]
        assert error["errorText"].startswith("ConnectionResetError: ")
        assert _data(parts, "run")[-1]["data"]["status"] == "failed"

        base = f"/api/v1/conversations/{conversation}"
        history = (await client.get(f"{base}/messages")).json()["items"]
        # The half-written reply does not stay behind as a ghost.
        assert [(m["role"], m["content"]) for m in history] == [("user", "tell me everything")]
        [run] = (await client.get(f"{base}/runs")).json()["items"]
        assert (run["status"], run["error_kind"]) == ("failed", "ConnectionResetError")


class TestManyAtOnce:
    async def test_fifty_conversations_streaming_at_once(self, caller_on: CallerOn) -> None:
        # Tokens 50 ms apart: every reply stores its progress along the way too.
        caller = await caller_on(LocalChatModel(token_delay=0.05))
        conversations = [await caller.conversation() for _ in range(50)]
        streams = await asyncio.gather(
            *(_stream_ui(caller.client, c, f"question for {c}") for c in conversations)
        )
        for conversation, (response, body) in zip(conversations, streams, strict=True):
            assert response.status_code == 200, body
            parts = check_ui_message_stream(response, body)
            url = f"/api/v1/conversations/{conversation}/messages"
            history = (await caller.client.get(url)).json()["items"]
            assert [(m["role"], m["status"]) for m in history] == [
                ("user", "complete"),
                ("assistant", "complete"),
            ]
            assert (
                _text(parts) == history[1]["content"] == f"Reply 1: you said “question for {conversation}”."
            )


class TestResumableReads:
    async def test_a_reader_sees_the_reply_in_progress_then_complete(self, caller_on: CallerOn) -> None:
        model = GatedChatModel()
        caller = await caller_on(model)
        caller.app.state.chat_runner.executor.progress_interval = 0.0  # store every token
        client = caller.client
        conversation = await caller.conversation()
        url = f"/api/v1/conversations/{conversation}/messages"
        streaming = asyncio.create_task(_stream_ui(client, conversation, "a long question"))
        await model.started.wait()
        # A page reloaded mid-answer: the reply is there, marked, with its text so far.
        for _ in range(200):
            history = (await client.get(url)).json()["items"]
            if len(history) == 2 and history[1]["content"]:
                break
            await asyncio.sleep(0.01)
        user, partial = history
        assert (user["status"], user["content"]) == ("complete", "a long question")
        assert (partial["role"], partial["status"], partial["content"]) == (
            "assistant",
            "streaming",
            "Reply ",
        )
        listed = (await client.get("/api/v1/conversations")).json()["items"][0]
        assert listed["message_count"] == 1

        model.gate.set()
        response, body = await streaming
        parts = check_ui_message_stream(response, body)
        history = (await client.get(url)).json()["items"]
        assert [(m["id"], m["status"]) for m in history] == [
            (user["id"], "complete"),
            (partial["id"], "complete"),
        ]
        assert history[1]["content"] == _text(parts) == "Reply 1: you said “a long question”."
        assert parts[0]["messageId"] == str(partial["id"])
        listed = (await client.get("/api/v1/conversations")).json()["items"][0]
        assert (listed["message_count"], listed["last_message_preview"]) == (2, history[1]["content"])

    async def test_the_reply_of_a_run_whose_process_died_goes_when_the_run_is_failed(
        self, alice: Caller, engine: AsyncEngine
    ) -> None:
        conversation = uuid.UUID(await alice.conversation())
        async with engine.begin() as conn:
            run_id = await conn.scalar(
                insert(ThreadRun)
                .values(
                    conversation_id=conversation,
                    user_id=alice.id,
                    prompt="lost in a crash",
                    started_at=text("now() - interval '2 hours'"),
                )
                .returning(ThreadRun.run_id)
            )
            await conn.execute(
                insert(Message).values(
                    conversation_id=conversation,
                    run_id=run_id,
                    role="assistant",
                    content="half an ans",
                    status="streaming",
                )
            )
        assert (await alice.send(str(conversation), "after the crash")).status_code == 200
        history = (await alice.client.get(f"/api/v1/conversations/{conversation}/messages")).json()["items"]
        assert [(m["content"], m["status"]) for m in history] == [
            ("after the crash", "complete"),
            ("Reply 1: you said “after the crash”.", "complete"),
        ]

    async def test_a_fork_during_a_run_leaves_the_unfinished_reply_behind(self, caller_on: CallerOn) -> None:
        model = GatedChatModel()
        caller = await caller_on(model)
        client = caller.client
        conversation = await caller.conversation()
        model.gate.set()
        assert (await caller.send(conversation, "one")).status_code == 200
        model.started.clear()
        model.gate.clear()
        second = asyncio.create_task(caller.send(conversation, "two"))
        await model.started.wait()
        fork = (await client.post(f"/api/v1/conversations/{conversation}/fork")).json()
        model.gate.set()
        assert (await second).status_code == 200
        copied = (await client.get(f"/api/v1/conversations/{fork['id']}/messages")).json()["items"]
        assert [m["content"] for m in copied] == ["one", "Reply 1: you said “one”.", "two"]
        assert all(m["status"] == "complete" for m in copied)
        assert fork["message_count"] == len(copied)
