"""A run's `config` and `context`, on both APIs, for graphs written as
LangGraph users write them: a ReAct agent whose model and prompt are its
context, a factory whose tools are its configurable. What a client may not
set (the server's ids, its internals) and what never reaches checkpoint
metadata (a client's values, secrets among them)."""

# The SDK types its JSON loosely: the tests index what this server returns.
# mypy: disable-error-code="index,call-overload,typeddict-item"

from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.agents.conftest import said
from tests.http_client import Caller
from tests.openai_compatible import OpenAICompatible

PIRATE = {"model": "openai:pirate-model", "system_prompt": "Talk like a pirate."}


async def _thread(sdk: LangGraphClient, graph_id: str) -> str:
    thread: str = (await sdk.threads.create(graph_id=graph_id))["thread_id"]
    return thread


def _last_ai(output: Any) -> str:
    content: str = [m for m in output["messages"] if m["type"] == "ai"][-1]["content"]
    return content


def _asked(server: OpenAICompatible) -> list[tuple[str, str]]:
    """Each model call: the model named and the system prompt it was given."""
    return [(r["model"], r["messages"][0]["content"]) for r in server.requests]


async def _refused(sdk: LangGraphClient, thread: str, graph_id: str, status: int = 422, **run: Any) -> str:
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await sdk.runs.wait(thread, graph_id, input=said("hello"), **run)
    assert refused.value.response.status_code == status
    assert await sdk.runs.list(thread) == []  # nothing stored
    detail: str = refused.value.response.json()["detail"]
    return detail


class TestContext:
    async def test_a_react_agent_takes_its_model_and_prompt_from_the_context(
        self, sdk: LangGraphClient, model_server: OpenAICompatible
    ) -> None:
        thread = await _thread(sdk, "react")
        output = await sdk.runs.wait(thread, "react", input=said("ahoy"), context=PIRATE)
        assert _last_ai(output) == "Done. AHOY"  # the model called the tool, then answered
        assert _asked(model_server) == [("pirate-model", "Talk like a pirate.")] * 2

    async def test_without_a_context_the_schemas_defaults(
        self, sdk: LangGraphClient, model_server: OpenAICompatible
    ) -> None:
        thread = await _thread(sdk, "react")
        await sdk.runs.wait(thread, "react", input=said("hi"))
        assert _asked(model_server)[0] == ("test-model", "You are a helpful assistant.")

    async def test_configurable_values_the_schema_names_are_the_context(
        self, sdk: LangGraphClient, model_server: OpenAICompatible
    ) -> None:
        # As on the Agent Server: graphs configured before LangGraph 0.6 send configurable.
        thread = await _thread(sdk, "react")
        config = {"configurable": {"model": "openai:old-style", "unrelated": 1}}
        await sdk.runs.wait(thread, "react", input=said("hi"), config=config)
        assert _asked(model_server)[0] == ("old-style", "You are a helpful assistant.")

    async def test_a_context_the_schema_refuses_is_422_naming_the_field(self, sdk: LangGraphClient) -> None:
        thread = await _thread(sdk, "react")
        detail = await _refused(sdk, thread, "react", context={"model": 5})
        assert "model: Input should be a valid string" in detail

    async def test_configurable_and_context_together_are_refused(self, sdk: LangGraphClient) -> None:
        thread = await _thread(sdk, "react")
        both = {"context": PIRATE, "config": {"configurable": {"model": "openai:x"}}}
        refused = await _refused(sdk, thread, "react", 400, **both)  # 400, as the Agent Server answers
        assert "Cannot specify both configurable and context" in refused

    async def test_a_run_stopped_before_its_tools_goes_on_to_run_them(
        self, sdk: LangGraphClient, model_server: OpenAICompatible
    ) -> None:
        # The react-agent template's flow: stop before the tools, look, then go on with no input.
        thread = await _thread(sdk, "react")
        await sdk.runs.wait(thread, "react", input=said("ahoy"), interrupt_before=["tools"])
        assert (await sdk.threads.get_state(thread))["next"] == ["tools"]
        output = await sdk.runs.wait(thread, "react")
        assert [m["type"] for m in output["messages"]] == ["human", "ai", "tool", "ai"]
        assert output["messages"][2]["content"] == "AHOY"
        assert _last_ai(output) == "Done. AHOY"


class TestConfig:
    async def test_a_factory_picks_its_tools_from_configurable(self, sdk: LangGraphClient) -> None:
        thread = await _thread(sdk, "toolbox")
        counted = await sdk.runs.wait(
            thread, "toolbox", input=said("hello"), config={"configurable": {"tools": ["count_letters"]}}
        )
        assert _last_ai(counted) == "Done. 5 letters"
        reversed_ = await sdk.runs.wait(thread, "toolbox", input=said("hello"))
        assert _last_ai(reversed_) == "Done. olleh"

    async def test_the_servers_ids_are_its_own_whatever_a_client_sends(
        self, sdk: LangGraphClient, caller: Caller
    ) -> None:
        thread = await _thread(sdk, "whoami")
        forged = {"configurable": {"user_id": "someone-else", "graph_id": "other", "thread_id": "x"}}
        output = await sdk.runs.wait(thread, "whoami", input=said("who?"), config=forged)
        assert _last_ai(output).startswith(f"user={caller.id} auth={caller.id} assistant=whoami graph=whoami")

    @pytest.mark.parametrize(
        ("config", "named"),
        [
            ({"configurable": {"langgraph_auth_user": {"id": "x"}}}, "configurable.langgraph_auth_user"),
            ({"configurable": {"__pregel_read": 1}}, "configurable.__pregel_read"),
            ({"configurable": {"checkpoint_id": "1"}}, "configurable.checkpoint_id"),
            ({"callbacks": []}, "callbacks"),
            ({"tags": "one"}, "tags must be a list of strings"),
            ({"recursion_limit": True}, "recursion_limit must be a whole number"),
            ({"recursion_limit": 100_000}, "recursion_limit must be a whole number"),
            ({"configurable": []}, "configurable must be an object"),
        ],
    )
    async def test_what_a_client_may_not_set_is_refused(
        self, sdk: LangGraphClient, config: dict[str, Any], named: str
    ) -> None:
        thread = await _thread(sdk, "toolbox")
        assert named in await _refused(sdk, thread, "toolbox", config=config)

    async def test_the_recursion_limit_is_the_runs(self, sdk: LangGraphClient) -> None:
        thread = await _thread(sdk, "react")
        run = await sdk.runs.create(thread, "react", input=said("hi"), config={"recursion_limit": 1})
        await sdk.runs.join(thread, run["run_id"])
        assert (await sdk.runs.get(thread, run["run_id"]))["status"] == "error"

    async def test_a_clients_configurable_never_reaches_checkpoint_metadata(
        self, sdk: LangGraphClient, caller: Caller, engine: AsyncEngine
    ) -> None:
        thread = await _thread(sdk, "toolbox")
        secret = {"tools": ["reverse"], "api_key": "sk-very-secret", "model": "openai:secret-model"}
        await sdk.runs.wait(thread, "toolbox", input=said("hi"), config={"configurable": secret})
        async with engine.connect() as conn:
            found = list(
                await conn.scalars(
                    text("SELECT metadata FROM checkpoints WHERE thread_id = :thread"), {"thread": thread}
                )
            )
        assert found
        for metadata in found:
            assert "sk-very-secret" not in str(metadata)
            assert "secret-model" not in str(metadata)
            assert metadata["user_id"] == str(caller.id)  # the server's ids stay


class TestTheChatApi:
    async def test_a_message_runs_with_its_context(
        self, caller: Caller, model_server: OpenAICompatible
    ) -> None:
        made = await caller.client.post("/api/v1/conversations", json={"assistant_id": "react"})
        conversation = made.json()["id"]
        sent = await caller.client.post(
            f"/api/v1/conversations/{conversation}/messages", json={"content": "ahoy", "context": PIRATE}
        )
        assert sent.status_code == 200, sent.text
        assert sent.json()["assistant_message"]["content"] == "Done. AHOY"
        assert _asked(model_server)[0] == ("pirate-model", "Talk like a pirate.")

    async def test_the_chat_graph_takes_no_context_from_its_client(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        sent = await alice.client.post(
            f"/api/v1/conversations/{conversation}/messages", json={"content": "hi", "context": {"a": 1}}
        )
        assert sent.status_code == 422
        assert "its context is the thread and its user" in sent.json()["detail"]
