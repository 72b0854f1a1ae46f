"""A real server on the test database, and langgraph-sdk clients of its
Agent Server API, one per user: the SDK as its users run it, unchanged."""

import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from app.config import Settings
from app.db import create_engine
from tests.server import Server, running

DOMAIN = "langgraph.example.com"
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
async def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    engine = create_engine(database_url, Settings(database_url=database_url))
    try:
        data_dir = tmp_path_factory.mktemp("server")
        # Tokens slow enough that a long reply is still running when a test acts
        # on it; crons polled often, so a cron made due fires within a test.
        async with running(
            database_url, data_dir, engine, DOMAIN, LOCAL_TOKEN_DELAY="0.01", CRON_POLL_INTERVAL="0.2"
        ) as server:
            yield server
    finally:
        await engine.dispose()


async def token_for(server: Server) -> str:
    """A new user's bearer token."""
    email = f"{uuid.uuid4().hex[:10]}@{DOMAIN}"
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (
            await client.post("/auth/register", json={"email": email, "password": PASSWORD})
        ).status_code == 201
        login = await client.post("/auth/jwt/login", data={"username": email, "password": PASSWORD})
    token: str = login.json()["access_token"]
    return token


@pytest.fixture
async def sdk_for(server: Server) -> AsyncIterator[Callable[[str], LangGraphClient]]:
    """A client of the Agent Server API for a token; each closed after the test."""
    made: list[LangGraphClient] = []

    def make(token: str) -> LangGraphClient:
        headers = {"Authorization": f"Bearer {token}"}
        made.append(get_client(url=f"{server.url}/langgraph", api_key=None, headers=headers))
        return made[-1]

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
async def user(server: Server) -> str:
    return await token_for(server)


@pytest.fixture
def sdk(sdk_for: Callable[[str], LangGraphClient], user: str) -> LangGraphClient:
    return sdk_for(user)


@pytest.fixture
async def api(server: Server, user: str) -> AsyncIterator[httpx.AsyncClient]:
    """The chat API as the same user."""
    headers = {"Authorization": f"Bearer {user}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as client:
        yield client
