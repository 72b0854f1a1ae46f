"""An app on the test database, and registered users with tokens, over HTTP."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from langchain_core.language_models import BaseChatModel
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.models import User


@dataclass
class Caller:
    """A registered, logged-in user and a client that sends their token."""

    id: uuid.UUID
    email: str
    client: httpx.AsyncClient
    app: FastAPI

    async def conversation(self, title: str | None = None) -> str:
        response = await self.client.post("/api/v1/conversations", json={"title": title} if title else {})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def send(self, conversation_id: str, content: str) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/conversations/{conversation_id}/messages", json={"content": content}
        )


def asgi_client(
    app: FastAPI,
    *,
    client: tuple[str, int] = ("127.0.0.1", 123),
    base_url: str = "http://test",
    **kwargs: object,
) -> httpx.AsyncClient:
    """A client of `app` in this process; `client` is the address the app sees."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client)
    return httpx.AsyncClient(transport=transport, base_url=base_url, **kwargs)  # type: ignore[arg-type]


async def register(client: httpx.AsyncClient, email: str, password: str = "correct horse battery") -> str:
    """Register and log in; return the access token."""
    created = await client.post("/auth/register", json={"email": email, "password": password})
    assert created.status_code == 201, created.text
    login = await client.post("/auth/jwt/login", data={"username": email, "password": password})
    assert login.status_code == 200, login.text
    return str(login.json()["access_token"])


AppFactory = Callable[..., Awaitable[FastAPI]]


@pytest.fixture
async def app_factory(database_url: str, engine: AsyncEngine) -> AsyncIterator[AppFactory]:
    """Apps on the test database (running their lifespan); their users are deleted after."""
    stack: list[tuple[FastAPI, object]] = []

    async def make(chat_model: BaseChatModel | None = None, graphs_file: Path | None = None) -> FastAPI:
        app = create_app(database_url, chat_model=chat_model, graphs_file=graphs_file)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        stack.append((app, lifespan))
        return app

    yield make
    for _, lifespan in reversed(stack):
        await lifespan.__aexit__(None, None, None)  # type: ignore[attr-defined]
    async with engine.begin() as conn:
        await conn.execute(delete(User).where(User.email.like("%@http.example.com")))


@pytest.fixture
async def app(app_factory: AppFactory) -> FastAPI:
    return await app_factory()


@pytest.fixture
def make_caller(app: FastAPI) -> Callable[[], Awaitable[Caller]]:
    async def make() -> Caller:
        email = f"{uuid.uuid4().hex[:12]}@http.example.com"
        anonymous = asgi_client(app)
        token = await register(anonymous, email)
        await anonymous.aclose()
        client = asgi_client(app, headers={"Authorization": f"Bearer {token}"})
        me = (await client.get("/users/me")).json()
        return Caller(id=uuid.UUID(me["id"]), email=email, client=client, app=app)

    return make


CallerOn = Callable[..., Awaitable[Caller]]


@pytest.fixture
async def caller_on(
    app_factory: AppFactory, make_caller: Callable[[], Awaitable[Caller]]
) -> AsyncIterator[CallerOn]:
    """A registered caller on an app of its own, whose agents run on `model`
    (and whose graphs are those of `graphs_file`, if given)."""
    clients: list[httpx.AsyncClient] = []

    async def make(model: BaseChatModel, graphs_file: Path | None = None) -> Caller:
        app = await app_factory(model, graphs_file)
        registered = await make_caller()
        client = asgi_client(app, headers=registered.client.headers)
        clients.extend((registered.client, client))
        return Caller(registered.id, registered.email, client, app)

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def alice(make_caller: Callable[[], Awaitable[Caller]]) -> AsyncIterator[Caller]:
    caller = await make_caller()
    yield caller
    await caller.client.aclose()


@pytest.fixture
async def bob(make_caller: Callable[[], Awaitable[Caller]]) -> AsyncIterator[Caller]:
    caller = await make_caller()
    yield caller
    await caller.client.aclose()
