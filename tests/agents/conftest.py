"""An app serving the graphs of tests/agents/graphs_project/langgraph.json,
written as LangGraph users write them, and langgraph-sdk's client on it.
Graphs that use `init_chat_model("openai:...")` reach the OpenAI-compatible
server on loopback, through the environment variables LangChain reads."""

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk.client import LangGraphClient

from app.agents.local_model import LocalChatModel
from tests.http_client import Caller, CallerOn, asgi_client
from tests.openai_compatible import OpenAICompatible

PROJECT = Path(__file__).parent / "graphs_project"


@pytest.fixture
async def model_server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[OpenAICompatible]:
    async with OpenAICompatible().serving() as server:
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        yield server


@pytest.fixture
async def caller(
    caller_on: CallerOn,
    model_server: OpenAICompatible,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> Caller:
    # The file's `env` sets it; unset again after the test.
    monkeypatch.delenv("GRAPHS_PROJECT_GREETING", raising=False)
    with caplog.at_level(logging.INFO, logger="app.agents.loader"):
        return await caller_on(LocalChatModel(), PROJECT / "langgraph.json")


@pytest.fixture
async def sdk(caller: Caller) -> AsyncIterator[LangGraphClient]:
    http = asgi_client(caller.app, base_url="http://test/langgraph", headers=dict(caller.client.headers))
    async with http:
        yield LangGraphClient(http)


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}
