"""@langchain/langgraph-sdk in Node.js on a server whose `langgraph.json` is a
project of graphs written as LangGraph users write them (tests/agents/graphs_project),
their models on the OpenAI-compatible server on loopback: a run's `context`
and `config`, its refusal, and LangChain's events streamed."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.agents.conftest import PROJECT
from tests.ai_sdk.conftest import DOMAIN
from tests.ai_sdk.node import run_node
from tests.ai_sdk.test_langgraph_js import _logged_in
from tests.openai_compatible import OpenAICompatible
from tests.server import Server, running


@pytest.fixture
async def project_server(
    database_url: str, tmp_path: Path, engine: AsyncEngine
) -> AsyncIterator[tuple[Server, OpenAICompatible]]:
    async with OpenAICompatible().serving() as model:
        env = {
            "LANGGRAPH_JSON": str(PROJECT / "langgraph.json"),
            "OPENAI_API_KEY": "test-key",
            "OPENAI_BASE_URL": model.base_url,
        }
        async with running(database_url, tmp_path, engine, DOMAIN, **env) as server:
            yield server, model


async def test_the_js_client_configures_runs_of_a_users_graphs(
    node: str, project_server: tuple[Server, OpenAICompatible]
) -> None:
    server, model = project_server
    async with _logged_in(server) as (client, token):
        me = (await client.get("/users/me")).json()["id"]
        seen = await run_node(node, "graph_project.mjs", server.url, token)
    assert seen["pirate"] == "Done. AHOY"
    assert (model.requests[0]["model"], model.requests[0]["messages"][0]["content"]) == (
        "pirate-model",
        "Talk like a pirate.",
    )
    assert seen["refused"]["status"] == 422
    assert "model: Input should be a valid string" in seen["refused"]["message"]
    assert ["on_tool_end", "shout"] in seen["events"]
    assert seen["events"][0] == ["on_chain_start", "ReAct Agent"]
    assert seen["counted"] == "Done. 5 letters"
    assert seen["who"].startswith(f"user={me} auth={me}")
