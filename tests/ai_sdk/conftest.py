"""Node.js with this folder's packages (the AI SDK, @langchain/langgraph-sdk),
and a real server for their scripts to call."""

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.ai_sdk.node import HERE
from tests.client_tools import missing
from tests.server import Server, running

DOMAIN = "ai-sdk.example.com"


@pytest.fixture
def node() -> str:
    node = shutil.which("node")
    packages = ("ai", "@langchain/langgraph-sdk")
    installed = all((HERE / "node_modules" / package).is_dir() for package in packages)
    if node is None or not installed:
        missing("Node.js and the JS clients (`npm ci --prefix tests/ai_sdk`, which `make test` runs)")
    assert node is not None
    return node


@pytest.fixture
async def server(database_url: str, tmp_path: Path, engine: AsyncEngine) -> AsyncIterator[Server]:
    async with running(database_url, tmp_path, engine, DOMAIN) as server:
        yield server
