"""Users of an app served in process, each with a langgraph-sdk client of
its Agent Server API: for suites that load a fixture project of their own."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

from tests.http_client import asgi_client, register


@dataclass
class SdkUser:
    id: str
    sdk: LangGraphClient
    http: httpx.AsyncClient

    @property
    def uuid(self) -> uuid.UUID:
        return uuid.UUID(self.id)


@asynccontextmanager
async def sdk_users(app: Any, count: int = 2) -> AsyncIterator[list[SdkUser]]:
    """`count` new users of `app`, their clients closed on the way out."""
    made: list[SdkUser] = []
    try:
        for _ in range(count):
            anonymous = asgi_client(app)
            token = await register(anonymous, f"{uuid.uuid4().hex[:12]}@http.example.com")
            await anonymous.aclose()
            headers = {"Authorization": f"Bearer {token}"}
            me = asgi_client(app, headers=headers)
            user_id = (await me.get("/users/me")).json()["id"]
            await me.aclose()
            http = asgi_client(app, base_url="http://test/langgraph", headers=headers)
            made.append(SdkUser(user_id, LangGraphClient(http), http))
        yield made
    finally:
        for user in made:
            await user.http.aclose()
