"""Graphs from a `langgraph.json`, written as LangGraph users write them
(tests/agents/graphs_project), run through the Agent Server API with
langgraph-sdk: each on the app's PostgreSQL saver, whatever it was compiled
with, factories made per run from the run's config."""

# The SDK types its JSON loosely: the tests index what this server returns.
# mypy: disable-error-code="index,call-overload,typeddict-item"

import httpx
import pytest
from langgraph.checkpoint.memory import MemorySaver
from langgraph_sdk.client import LangGraphClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.agents.graphs_file import GraphEntry
from app.agents.loader import import_entry
from tests.agents.conftest import PROJECT, said
from tests.http_client import Caller


async def _turns(sdk: LangGraphClient, graph_id: str, *texts: str) -> tuple[str, list[str]]:
    """A thread of `graph_id` sent each text in turn: its id, and its AI messages afterwards."""
    thread = (await sdk.threads.create(graph_id=graph_id))["thread_id"]
    for words in texts:
        await sdk.runs.wait(thread, graph_id, input=said(words))
    state = await sdk.threads.get_state(thread)
    return thread, [m["content"] for m in state["values"]["messages"] if m["type"] == "ai"]


async def _checkpoints_in_postgres(engine: AsyncEngine, thread_id: str) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT count(*) FROM checkpoints WHERE thread_id = :thread"), {"thread": thread_id}
        )
    return int(found or 0)


class TestEachKindOfGraph:
    async def test_a_graph_compiled_with_its_own_saver_runs_on_the_shared_one(
        self, sdk: LangGraphClient, engine: AsyncEngine
    ) -> None:
        thread, replies = await _turns(sdk, "compiled", "one", "two")
        assert replies == ["heard so far: one", "heard so far: one, two"]
        assert await _checkpoints_in_postgres(engine, thread) > 0
        own = import_entry(GraphEntry("compiled", "./compiled.py:graph"), PROJECT).checkpointer
        assert isinstance(own, MemorySaver)
        assert not own.storage  # its MemorySaver never saw the thread

    async def test_a_bare_state_graph_is_compiled_on_the_shared_saver(
        self, sdk: LangGraphClient, engine: AsyncEngine
    ) -> None:
        thread, replies = await _turns(sdk, "bare", "quiet please")
        assert replies == ["QUIET PLEASE"]
        assert await _checkpoints_in_postgres(engine, thread) > 0

    async def test_a_factory_taking_config_is_made_per_run_from_the_runs_config(
        self, sdk: LangGraphClient, engine: AsyncEngine
    ) -> None:
        thread, replies = await _turns(sdk, "configured", "hi", "again")
        assert replies == [f"made for thread {thread}"] * 2
        assert await _checkpoints_in_postgres(engine, thread) > 0

    async def test_an_async_factory_taking_nothing_sees_the_files_env(
        self, sdk: LangGraphClient, engine: AsyncEngine
    ) -> None:
        thread, replies = await _turns(sdk, "made_async", "hi")
        assert replies == ["hello from langgraph.json"]
        assert await _checkpoints_in_postgres(engine, thread) > 0

    async def test_a_factory_taking_the_servers_runtime_is_told_it_runs(self, sdk: LangGraphClient) -> None:
        _, replies = await _turns(sdk, "on_runtime", "hi")
        assert replies == ["made for threads.create_run"]

    async def test_a_module_path_entry_with_a_subgraph_that_keeps_its_own_state(
        self, sdk: LangGraphClient, engine: AsyncEngine
    ) -> None:
        thread, replies = await _turns(sdk, "nested", "a", "b", "c")
        # The subgraph's `calls` lives in its own namespace of the thread, run after run.
        assert replies == ["call 1", "call 2", "call 3"]
        async with engine.connect() as conn:
            namespaces = await conn.scalars(
                text("SELECT DISTINCT checkpoint_ns FROM checkpoints WHERE thread_id = :thread"),
                {"thread": thread},
            )
            assert any(ns.startswith("counter") for ns in namespaces)

    async def test_two_interrupts_pending_at_once_are_answered_together_by_id(
        self, sdk: LangGraphClient
    ) -> None:
        thread = (await sdk.threads.create(graph_id="two_questions"))["thread_id"]
        await sdk.runs.wait(thread, "two_questions", input=said("go"))
        waiting = await sdk.threads.get(thread)
        assert waiting["status"] == "interrupted"
        asked = {i["value"]: i["id"] for i in (await sdk.threads.get_state(thread))["interrupts"]}
        assert sorted(asked) == ["What should left say?", "What should right say?"]
        answers = {asked["What should left say?"]: "west", asked["What should right say?"]: "east"}
        output = await sdk.runs.wait(thread, "two_questions", command={"resume": answers})
        said_ = sorted(m["content"] for m in output["messages"] if m["type"] == "ai")
        assert said_ == ["left: west", "right: east"]
        assert (await sdk.threads.get(thread))["status"] == "idle"


class TestAProjectWithoutTheChatGraph:
    async def test_a_thread_made_without_a_graph_takes_its_first_runs(self, sdk: LangGraphClient) -> None:
        thread = (await sdk.threads.create())["thread_id"]
        output = await sdk.runs.wait(thread, "whoami", input=said("who?"))
        assert output["messages"][-1]["content"].startswith("user=")
        assert (await sdk.threads.get(thread))["metadata"]["graph_id"] == "whoami"

    async def test_a_conversation_made_without_an_assistant_gets_the_files_first(
        self, caller: Caller
    ) -> None:
        made = await caller.client.post("/api/v1/conversations", json={})
        assert made.status_code == 201, made.text
        assert made.json()["assistant_id"] == "compiled"

    async def test_a_state_update_the_graphs_own_edge_refuses_is_422(self, sdk: LangGraphClient) -> None:
        # The react-agent template's edge raises ValueError for a message not from the model.
        thread = (await sdk.threads.create(graph_id="react"))["thread_id"]
        await sdk.runs.wait(thread, "react", input=said("hi"))
        with pytest.raises(httpx.HTTPStatusError) as refused:
            await sdk.threads.update_state(thread, {"messages": [{"role": "user", "content": "x"}]})
        assert refused.value.response.status_code == 422
        assert "Expected AIMessage in output edges" in refused.value.response.json()["detail"]


class TestWhatTheServerTellsAGraph:
    async def test_configurable_names_the_caller_the_run_and_its_graph(
        self, sdk: LangGraphClient, caller: Caller, engine: AsyncEngine
    ) -> None:
        thread = (await sdk.threads.create(graph_id="whoami"))["thread_id"]
        run = await sdk.runs.create(thread, "whoami", input=said("who am I?"))
        await sdk.runs.join(thread, run["run_id"])
        state = await sdk.threads.get_state(thread)
        [reply] = [m["content"] for m in state["values"]["messages"] if m["type"] == "ai"]
        assert reply == (
            f"user={caller.id} auth={caller.id} assistant=whoami graph=whoami run={run['run_id']}"
        )
        # An id, not a secret: the caller's id is the one identity key in checkpoint metadata.
        async with engine.connect() as conn:
            metadata = await conn.scalars(
                text("SELECT metadata FROM checkpoints WHERE thread_id = :thread"), {"thread": thread}
            )
            for found in metadata:
                assert found.get("user_id") in (None, str(caller.id))
                assert "langgraph_auth_user" not in found


class TestTheAssistants:
    async def test_each_graph_is_an_assistant_named_by_its_id(self, sdk: LangGraphClient) -> None:
        found = {a["assistant_id"]: a for a in await sdk.assistants.search(limit=50)}
        assert sorted(found) == [
            "bare",
            "compiled",
            "configured",
            "made_async",
            "nested",
            "on_runtime",
            "react",
            "toolbox",
            "two_questions",
            "whoami",
        ]
        assert found["nested"]["name"] == "nested"
        assert found["nested"]["description"] == "Counts its calls in a subgraph."
        graph = await sdk.assistants.get_graph("configured")
        assert "say" in {node["id"] for node in graph["nodes"]}

    async def test_the_store_key_is_acted_on_not_said_to_be_ignored(
        self, caller: Caller, caplog: pytest.LogCaptureFixture
    ) -> None:
        assert not [r for r in caplog.get_records("setup") if "not acted on" in r.getMessage()]
