"""The research agent over the chat API: assistants, tool calls, an interrupt
for the user's approval, and the resume that answers it, in both streams, the
history, the runs and the checkpoints."""

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.models import Note
from tests.chat_models import FailsAfterToolModel
from tests.http_client import Caller, CallerOn
from tests.research_client import (
    APPROVE,
    ASK,
    SUMMARY,
    history,
    reject,
    research_conversation,
    runs,
    shape,
    stream,
)

QUESTION = f"Save this note? “{SUMMARY}”"


def approval_request(text: str) -> dict[str, Any]:
    """The interrupt's value: LangChain's HumanInTheLoopMiddleware request, as agent-chat-ui reads it."""
    return {
        "action_requests": [
            {"name": "save_note", "args": {"text": text}, "description": f"Save this note? “{text}”"}
        ],
        "review_configs": [
            {
                "action_name": "save_note",
                "allowed_decisions": ["approve", "edit", "reject"],
                "args_schema": {
                    "description": "Save a note for the user. The agent asks the user to approve it first.",
                    "properties": {"text": {"title": "Text", "type": "string"}},
                    "required": ["text"],
                    "title": "save_note",
                    "type": "object",
                },
            }
        ],
    }


def _types(parts: list[dict[str, Any]]) -> list[str]:
    return [p["type"] for p in parts if not p["type"].startswith(("text-", "start-step", "finish-step"))]


class TestAssistants:
    async def test_listed_with_what_they_use(self, alice: Caller) -> None:
        items = (await alice.client.get("/api/v1/assistants")).json()["items"]
        found = {a["id"]: a["uses_tools"] for a in items}
        assert found == {"chat": False, "research": True}
        assert all(a["name"] and a["description"] for a in items)

    async def test_an_unknown_assistant_is_422_naming_the_known(self, alice: Caller) -> None:
        response = await alice.client.post("/api/v1/conversations", json={"assistant_id": "oracle"})
        assert response.status_code == 422
        assert response.json()["error"] == "UnknownAssistant"
        assert "chat, research" in response.json()["detail"]

    async def test_a_conversation_keeps_its_assistant_and_a_fork_too(self, alice: Caller) -> None:
        conversation = await research_conversation(alice.client)
        got = (await alice.client.get(f"/api/v1/conversations/{conversation}")).json()
        assert got["assistant_id"] == "research"
        assert (
            await alice.client.post(f"/api/v1/conversations/{conversation}/messages", json={"content": "hi"})
        ).json()
        fork = (await alice.client.post(f"/api/v1/conversations/{conversation}/fork", json={})).json()
        assert fork["assistant_id"] == "research"


class TestApproval:
    async def test_approve_in_the_named_events_then_the_ui_stream(
        self, alice: Caller, engine: AsyncEngine
    ) -> None:
        conversation = await research_conversation(alice.client)
        events = await stream(alice.client, conversation, {"content": ASK}, "events")
        names = [name for name, _ in events]
        assert names == ["message", "tool-call", "tool-result", "tool-call", "interrupt", "done"]
        _, search = events[2]
        assert (search["name"], search["status"], search["args"]) == (
            "search_conversations",
            "success",
            {"query": "durable memory"},
        )
        _, interrupt = events[4]
        assert (interrupt["role"], interrupt["content"]) == ("interrupt", QUESTION)
        assert interrupt["metadata"]["value"] == approval_request(SUMMARY)
        assert interrupt["metadata"]["pending"] is True
        assert events[-1][1]["status"] == "interrupted"

        parts = await stream(alice.client, conversation, {"resume": APPROVE}, "ui")
        assert _types(parts) == [
            "start",
            "data-run",
            "tool-input-start",
            "tool-input-available",
            "tool-output-available",
            "data-assistant-message",
            "data-run",
            "finish",
        ]
        output = next(p for p in parts if p["type"] == "tool-output-available")
        assert output["output"].startswith("Saved note ")
        answer = "".join(p["delta"] for p in parts if p["type"] == "text-delta")
        assert answer.startswith(f"I searched your other conversations: {SUMMARY} Saved note ")

        messages = await history(alice.client, conversation)
        assert shape(messages) == [
            ("user", ASK),
            ("assistant", "call search_conversations"),
            ("tool", "search_conversations success"),
            ("assistant", "call save_note"),
            ("interrupt", QUESTION),
            ("tool", "save_note success"),
            ("assistant", answer),
        ]
        asked = messages[4]["metadata"]
        assert (asked["pending"], asked["answer"]) == (False, APPROVE)
        assert messages[5]["metadata"]["args"] == {"text": SUMMARY}
        first, resumed = await runs(alice.client, conversation)
        assert (first["status"], first["interrupts"][0]["value"]) == (
            "interrupted",
            approval_request(SUMMARY),
        )
        assert (resumed["status"], resumed["resume"]) == ("succeeded", APPROVE)
        assert asked["answered_by"] == resumed["run_id"]
        async with async_sessionmaker(engine)() as s:
            notes = list(await s.scalars(select(Note.content).where(Note.user_id == alice.id)))
        assert notes == [SUMMARY]

    async def test_reject_with_a_comment(self, alice: Caller, engine: AsyncEngine) -> None:
        conversation = await research_conversation(alice.client)
        interrupted = await alice.send(conversation, ASK)
        assert interrupted.json()["status"] == "interrupted"
        assert interrupted.json()["assistant_message"] is None
        [asked] = interrupted.json()["interrupts"]
        assert asked["content"] == QUESTION

        parts = await stream(alice.client, conversation, {"resume": reject("not now")}, "ui")
        [refused] = [p for p in parts if p["type"] == "tool-output-error"]
        assert refused["errorText"] == "The user rejected it: not now"
        messages = await history(alice.client, conversation)
        assert shape(messages)[-2:] == [
            ("tool", "save_note error"),
            (
                "assistant",
                f"I searched your other conversations: {SUMMARY} I did not run save_note. "
                "The user rejected it: not now",
            ),
        ]
        async with async_sessionmaker(engine)() as s:
            assert list(await s.scalars(select(Note).where(Note.user_id == alice.id))) == []

    async def test_edit_saves_the_edited_note(self, alice: Caller, engine: AsyncEngine) -> None:
        conversation = await research_conversation(alice.client)
        await alice.send(conversation, ASK)
        edited = {"type": "edit", "edited_action": {"name": "save_note", "args": {"text": "my own words"}}}
        done = await alice.client.post(
            f"/api/v1/conversations/{conversation}/messages", json={"resume": {"decisions": [edited]}}
        )
        assert done.status_code == 200, done.text
        messages = await history(alice.client, conversation)
        assert shape(messages)[-2] == ("tool", "save_note success")
        assert messages[-2]["metadata"]["args"] == {"text": "my own words"}
        # The call as decided is the one the state keeps, for the model to read.
        [call] = [m for m in messages if m["metadata"].get("tool_calls")][-1]["metadata"]["tool_calls"]
        assert call["name"] == "save_note"
        async with async_sessionmaker(engine)() as s:
            notes = list(await s.scalars(select(Note.content).where(Note.user_id == alice.id)))
        assert notes == ["my own words"]


class TestTheRules:
    async def test_a_message_while_waiting_is_409_naming_the_interrupt(self, alice: Caller) -> None:
        conversation = await research_conversation(alice.client)
        asked = (await alice.send(conversation, ASK)).json()["interrupts"][0]
        response = await alice.send(conversation, "are you there?")
        assert response.status_code == 409
        assert response.json()["error"] == "InterruptPending"
        assert asked["metadata"]["interrupt_id"] in response.json()["detail"]
        assert "save_note" in response.json()["detail"]

    async def test_a_resume_with_nothing_waiting_is_409(self, alice: Caller) -> None:
        for assistant in ("chat", "research"):
            created = await alice.client.post("/api/v1/conversations", json={"assistant_id": assistant})
            url = f"/api/v1/conversations/{created.json()['id']}/messages"
            response = await alice.client.post(url, json={"resume": APPROVE})
            assert response.status_code == 409, assistant
            assert response.json()["error"] == "NoInterruptPending"

    async def test_bad_resumes_are_422_and_change_nothing(self, alice: Caller) -> None:
        conversation = await research_conversation(alice.client)
        await alice.send(conversation, ASK)
        url = f"/api/v1/conversations/{conversation}/messages"
        bodies: tuple[dict[str, Any], ...] = (
            {"resume": {"decisions": [{"type": "maybe"}]}},
            {"resume": {"decisions": []}},
            {"resume": {**APPROVE, "extra": 1}},
            {"resume": {"approved": True}},
            {"resume": "yes"},
            {"resume": reject("nul\x00")},
            {"resume": reject("\ud800")},
            {"resume": {"n": 2**64}},
            {"content": "hi", "resume": APPROVE},
            {"resume": None},
            # Checked against the question: one decision per action, of a type
            # it allows, an edit keeping its name and its tool's arguments.
            {"resume": {"decisions": [{"type": "approve"}, {"type": "approve"}]}},
            {
                "resume": {
                    "decisions": [{"type": "edit", "edited_action": {"name": "rm", "args": {"text": "x"}}}]
                }
            },
            {"resume": {"decisions": [{"type": "edit", "edited_action": {"name": "save_note", "args": {}}}]}},
        )
        for body in bodies:
            # As JSON escapes them: a lone surrogate has no UTF-8 of its own.
            raw = json.dumps(body)
            response = await alice.client.post(url, content=raw, headers={"Content-Type": "application/json"})
            assert response.status_code == 422, body
        assert [r["status"] for r in await runs(alice.client, conversation)] == ["interrupted"]


class TestCheckpoints:
    async def test_the_state_shows_tool_calls_and_the_subgraphs_own_state(self, alice: Caller) -> None:
        conversation = await research_conversation(alice.client)
        await alice.send(conversation, ASK)
        base = f"/api/v1/conversations/{conversation}/checkpoints"
        states = [
            (await alice.client.get(f"{base}/{c['id']}")).json()
            for c in (await alice.client.get(base)).json()["items"]
        ]
        [summarised] = [s for s in states if s["subgraphs"]]
        [sub] = summarised["subgraphs"]
        assert sub["namespace"].startswith("summarise:")
        assert sub["values"]["per_conversation"] == {"Durable memory": 2}
        assert sub["values"]["summary"] == SUMMARY
        assert summarised["values"]["summary"] == SUMMARY
        latest = states[0]
        assert [m["role"] for m in latest["messages"]] == ["user", "assistant", "tool", "assistant"]
        assert latest["messages"][-1]["tool_calls"][0]["name"] == "save_note"


class TestAFailedResume:
    async def test_the_answer_is_recorded_once_the_graph_took_it(self, caller_on: CallerOn) -> None:
        caller = await caller_on(FailsAfterToolModel())
        conversation = await research_conversation(caller.client)
        await caller.send(conversation, ASK)
        url = f"/api/v1/conversations/{conversation}/messages"
        failed = await caller.client.post(url, json={"resume": APPROVE})
        assert failed.status_code == 502
        messages = await history(caller.client, conversation)
        # The note was saved before the model failed: the question is answered, the result kept.
        assert shape(messages)[-2:] == [("interrupt", QUESTION), ("tool", "save_note success")]
        assert messages[-2]["metadata"]["pending"] is False
        assert [r["status"] for r in await runs(caller.client, conversation)] == ["interrupted", "failed"]
        # Nothing waits any more: a new message is taken.
        assert (await caller.send(conversation, "hello again")).status_code == 200
        assert (await caller.client.post(url, json={"resume": APPROVE})).json()["error"] == (
            "NoInterruptPending"
        )
