"""A `langgraph.json` that is wrong: each graph that cannot load is one log
line at start-up naming the file, the graph and the cause, the others load,
and a run naming it is a 4xx that says why; a file that cannot be read at
all, or of which no graph loads, stops the start-up in one sentence."""

# The SDK types its JSON loosely: the tests index what this server returns.
# mypy: disable-error-code="index,call-overload"

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph_sdk.client import LangGraphClient

from app.agents import compile_assistants
from app.agents.graphs_file import GraphsFileError
from app.agents.local_model import LocalChatModel
from tests.http_client import CallerOn, asgi_client

# Each bad graph, and what its line and its runs' answers say of it.
BAD = {
    "no_file": ("./missing.py:graph", "FileNotFoundError: no such file"),
    "no_module": ("no_such_package.graphs:graph", "ModuleNotFoundError: No module named 'no_such_package'"),
    "no_attribute": ("./graphs.py:nothing", "AttributeError: ./graphs.py has no attribute 'nothing'"),
    "not_a_graph": ("./graphs.py:NOT_A_GRAPH", "NotAGraph: str is not a graph"),
    "factory_raises": ("./graphs.py:broken_factory", "RuntimeError: the factory needs a key it has not got"),
    "no_colon": ("./graphs.py", "ValueError: './graphs.py' names no attribute"),
    "not_a_string": (["./graphs.py:graph"], "ValueError: expected 'file.py:graph'"),
}
GRAPHS_PY = """
from langgraph.graph import START, MessagesState, StateGraph

NOT_A_GRAPH = "a string"


def broken_factory():
    raise RuntimeError("the factory needs a key it has not got")


def echo(state: MessagesState):
    return {"messages": [{"role": "assistant", "content": state["messages"][-1].content}]}


builder = StateGraph(MessagesState)
builder.add_node(echo)
builder.add_edge(START, "echo")
graph = builder.compile()
"""


HI: dict[str, Any] = {"messages": [{"role": "user", "content": "hi"}]}


def _project(folder: Path, graphs: dict[str, object]) -> Path:
    (folder / "graphs.py").write_text(GRAPHS_PY)
    path = folder / "langgraph.json"
    path.write_text(json.dumps({"graphs": graphs}))
    return path


class TestABadGraph:
    async def test_is_one_line_and_a_4xx_naming_it_and_the_rest_serve(
        self, tmp_path: Path, caller_on: CallerOn, caplog: pytest.LogCaptureFixture
    ) -> None:
        path = _project(tmp_path, {"good": "./graphs.py:graph", **{k: v for k, (v, _) in BAD.items()}})
        with caplog.at_level(logging.INFO, logger="app.agents.loader"):
            caller = await caller_on(LocalChatModel(), path)
        lines = [r for r in caplog.records if r.name == "app.agents.loader"]
        assert len(lines) == len(BAD)
        for graph_id, (_, cause) in BAD.items():
            [line] = [r.getMessage() for r in lines if f"graph {graph_id!r}" in r.getMessage()]
            assert line.startswith(f"{path}: graph {graph_id!r} not loaded: ")
            assert cause in line
        assert all(r.exc_info is None and "\n" not in r.getMessage() for r in lines)

        http = asgi_client(caller.app, base_url="http://test/langgraph", headers=dict(caller.client.headers))
        async with http:
            sdk = LangGraphClient(http)
            thread = (await sdk.threads.create(graph_id="good"))["thread_id"]
            done = await sdk.runs.wait(thread, "good", input=HI)
            assert done["messages"][-1]["content"] == "hi"
            for graph_id, (_, cause) in BAD.items():
                with pytest.raises(httpx.HTTPStatusError) as refused:
                    await sdk.runs.wait(None, graph_id, input=HI)
                answer = refused.value.response
                assert (answer.status_code, answer.json()["error"]) == (424, "GraphNotLoaded")
                assert f"The graph {graph_id!r} did not load at start-up: {cause}" in answer.json()["detail"]
        created = await caller.client.post("/api/v1/conversations", json={"assistant_id": "factory_raises"})
        assert (created.status_code, created.json()["error"]) == (424, "GraphNotLoaded")


class TestAFileThatCannotServe:
    @pytest.mark.parametrize(
        ("content", "cause"),
        [
            ("{not json", "not JSON: Expecting property name enclosed in double quotes"),
            ('{"graphs": {}}', 'no "graphs"'),
            ('["graphs"]', 'no "graphs"'),
            ('{"graphs": {"a": "./graphs.py:graph"}, "env": 3}', '"env" must be a .env file path'),
            ('{"graphs": {"a": "./missing.py:graph"}}', "no graph loaded"),
        ],
    )
    async def test_stops_the_start_up_in_one_sentence_naming_it(
        self, tmp_path: Path, content: str, cause: str
    ) -> None:
        path = _project(tmp_path, {})
        path.write_text(content)
        with pytest.raises(GraphsFileError) as stopped:
            await compile_assistants(InMemorySaver(), LocalChatModel(), graphs_file=path)
        assert str(stopped.value).startswith(f"{path.resolve()}: ")
        assert cause in str(stopped.value)

    async def test_a_missing_env_file_is_one_line_and_the_graphs_serve(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        # As `langgraph dev` does: a template's `.env` is made by its user, or the variables set.
        path = _project(tmp_path, {})
        path.write_text('{"graphs": {"a": "./graphs.py:graph"}, "env": ".env.missing"}')
        with caplog.at_level(logging.WARNING, logger="app.agents.graphs_file"):
            compiled = await compile_assistants(InMemorySaver(), LocalChatModel(), graphs_file=path)
        assert list(compiled) == ["a"]
        [line] = [r.getMessage() for r in caplog.records if r.name == "app.agents.graphs_file"]
        assert line.startswith(f'{path.resolve()}: "env": no such file ')

    async def test_a_missing_file_is_named(self, tmp_path: Path) -> None:
        with pytest.raises(GraphsFileError, match="no such file"):
            await compile_assistants(InMemorySaver(), graphs_file=tmp_path / "langgraph.json")
