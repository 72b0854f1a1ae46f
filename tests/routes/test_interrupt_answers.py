"""Answers to interrupts on both APIs, on a graph whose parallel branches ask
at once and that is declared with nothing said about interrupting: each
interrupt answered by id (LangGraph's `Command(resume={id: value})`), each
answer checked against the assistant's schema, and a message refused while
any of them waits."""

# The SDK types its JSON loosely: the tests index what this server returns.
# mypy: disable-error-code="index,call-overload,union-attr,typeddict-item,arg-type"

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.language_models import BaseChatModel
from langgraph_sdk.client import LangGraphClient

from app.agents.local_model import LocalChatModel
from tests.http_client import Caller, CallerOn, asgi_client

FAN_OUT = "fan-out"
UNKNOWN = "0" * 32


@pytest.fixture
async def caller(tmp_path: Path, caller_on: CallerOn) -> Caller:
    """A caller on an app whose langgraph.json declares the fan-out graph beside the chat one."""
    graphs = {"chat": "app.agents.builtin:chat", FAN_OUT: "tests.graphs:fan_out"}
    (tmp_path / "langgraph.json").write_text(json.dumps({"graphs": graphs}))
    model: BaseChatModel = LocalChatModel()
    return await caller_on(model, tmp_path / "langgraph.json")


@pytest.fixture
async def sdk(caller: Caller) -> AsyncIterator[LangGraphClient]:
    http = asgi_client(caller.app, base_url="http://test/langgraph", headers=dict(caller.client.headers))
    async with http:
        yield LangGraphClient(http)


async def _asked(caller: Caller) -> tuple[str, dict[str, str]]:
    """A fan-out conversation waiting at both questions: its id, and each question's interrupt id."""
    created = await caller.client.post("/api/v1/conversations", json={"assistant_id": FAN_OUT})
    conversation = str(created.json()["id"])
    sent = await caller.send(conversation, "go")
    assert sent.json()["status"] == "interrupted", sent.text
    asked = {m["content"]: m["metadata"]["interrupt_id"] for m in sent.json()["interrupts"]}
    ids = {branch: asked[f"What should {branch} say?"] for branch in ("left", "right")}
    return conversation, ids


async def _resume(caller: Caller, conversation: str, resume: Any) -> httpx.Response:
    return await caller.client.post(f"/api/v1/conversations/{conversation}/messages", json={"resume": resume})


class TestTheChatAPI:
    async def test_each_interrupt_takes_its_own_answer_by_id(self, caller: Caller) -> None:
        conversation, ids = await _asked(caller)
        done = await _resume(caller, conversation, {ids["left"]: {"text": "a"}, ids["right"]: {"text": "b"}})
        assert done.status_code == 200, done.text
        items = (await caller.client.get(f"/api/v1/conversations/{conversation}/messages")).json()["items"]
        said = sorted(m["content"] for m in items if m["role"] == "assistant")
        assert said == ["left: a", "right: b"]
        answers = {m["metadata"]["interrupt_id"]: m["metadata"] for m in items if m["role"] == "interrupt"}
        assert answers[ids["left"]]["answer"] == {"text": "a"}
        assert answers[ids["right"]]["answer"] == {"text": "b"}
        assert not any(a["pending"] for a in answers.values())

    async def test_what_does_not_answer_each_by_id_is_refused_and_changes_nothing(
        self, caller: Caller
    ) -> None:
        conversation, ids = await _asked(caller)
        one = await _resume(caller, conversation, {"text": "same for both"})
        assert (one.status_code, one.json()["error"]) == (409, "InterruptsUnanswered")
        assert ids["left"] in one.json()["detail"]
        assert ids["right"] in one.json()["detail"]
        half = await _resume(caller, conversation, {ids["left"]: {"text": "a"}})
        assert (half.status_code, half.json()["error"]) == (409, "InterruptsUnanswered")
        assert ids["right"] in half.json()["detail"]
        assert ids["left"] not in half.json()["detail"]
        stray = await _resume(caller, conversation, {ids["left"]: {"text": "a"}, UNKNOWN: {"text": "b"}})
        assert (stray.status_code, stray.json()["error"]) == (409, "UnknownInterrupt")
        assert UNKNOWN in stray.json()["detail"]
        bad = await _resume(caller, conversation, {ids["left"]: {"text": "a"}, ids["right"]: {"text": 2}})
        assert (bad.status_code, bad.json()["error"]) == (422, "InvalidResume")
        assert ids["right"] in bad.json()["detail"]
        runs = (await caller.client.get(f"/api/v1/conversations/{conversation}/runs")).json()["items"]
        assert [r["status"] for r in runs] == ["interrupted"]

    async def test_a_graph_registered_without_a_word_about_interrupts_still_waits(
        self, caller: Caller
    ) -> None:
        conversation, ids = await _asked(caller)
        response = await caller.send(conversation, "something else")
        assert (response.status_code, response.json()["error"]) == (409, "InterruptPending")
        assert ids["left"] in response.json()["detail"] or ids["right"] in response.json()["detail"]


class TestTheAgentServerAPI:
    async def test_a_command_resumes_each_interrupt_by_id(self, sdk: LangGraphClient) -> None:
        thread = (await sdk.threads.create(graph_id=FAN_OUT))["thread_id"]
        go = {"messages": [{"role": "user", "content": "go"}]}
        waiting = await sdk.runs.wait(thread, FAN_OUT, input=go)
        ids = {i["value"]["question"].split()[2]: i["id"] for i in waiting["__interrupt__"]}
        assert set(ids) == {"left", "right"}

        async def refused(resume: Any) -> httpx.Response:
            with pytest.raises(httpx.HTTPStatusError) as error:
                await sdk.runs.wait(thread, FAN_OUT, command={"resume": resume})
            return error.value.response

        stray = await refused({ids["left"]: {"text": "a"}, UNKNOWN: {"text": "b"}})
        assert (stray.status_code, stray.json()["error"]) == (409, "UnknownInterrupt")
        assert UNKNOWN in stray.json()["detail"]
        assert (await refused({"text": "same for both"})).status_code == 409
        assert (await refused({ids["left"]: {"text": "a"}, ids["right"]: {"no": 1}})).status_code == 422

        answers = {ids["left"]: {"text": "a"}, ids["right"]: {"text": "b"}}
        values = await sdk.runs.wait(thread, FAN_OUT, command={"resume": answers})
        assert "__interrupt__" not in values
        said = sorted(m["content"] for m in values["messages"] if m["type"] == "ai")
        assert said == ["left: a", "right: b"]
        assert (await sdk.threads.get_state(thread))["interrupts"] == []
