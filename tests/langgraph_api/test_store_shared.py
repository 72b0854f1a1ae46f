# The SDK types its JSON loosely: the tests index what this server returns.
# mypy: disable-error-code="index,call-overload,typeddict-item,arg-type,dict-item"
"""The app's shared, read-only namespaces (STORE_SHARED_NAMESPACES) through
langgraph-sdk's `client.store`, the chat API's memories and a graph run:
every user reads the app's items, none puts or deletes them."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk.errors import PermissionDeniedError

from app.agents.local_model import LocalChatModel
from app.config import get_store_settings
from app.services.store import AppStore
from tests.http_client import AppFactory, asgi_client
from tests.langgraph_api.in_process import SdkUser, sdk_users

PROJECT = Path(__file__).parent / "memory_project" / "langgraph.json"

LEAVE = {"text": "Staff get 25 days of paid holiday a year"}
BIKES = {"text": "Bicycles are parked in the basement garage"}


@pytest.fixture
async def app(app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """The app sharing `handbook`, its staff handbook loaded as the operator loads it."""
    monkeypatch.setenv("STORE_SHARED_NAMESPACES", "handbook")
    get_store_settings.cache_clear()
    app = await app_factory(LocalChatModel(), PROJECT)
    store: AppStore = app.state.store
    await store.load_shared(["handbook", "staff"], [("leave", LEAVE), ("bikes", BIKES)])
    yield app
    async with store.pool.connection() as conn:
        await conn.execute("DELETE FROM store WHERE user_id IS NULL")
    get_store_settings.cache_clear()


@pytest.fixture
async def users(app: Any) -> AsyncIterator[list[SdkUser]]:
    async with sdk_users(app) as made:
        yield made


async def handbook(user: SdkUser) -> dict[str, Any]:
    found = await user.sdk.store.search_items(["handbook"])
    return {i["key"]: i["value"] for i in found["items"]}


class TestClientStore:
    async def test_every_user_reads_the_apps_items_by_their_namespace(self, users: list[SdkUser]) -> None:
        for user in users:
            item = await user.sdk.store.get_item(["handbook", "staff"], "leave")
            assert (item["namespace"], item["value"]) == (["handbook", "staff"], LEAVE)
            assert await handbook(user) == {"leave": LEAVE, "bikes": BIKES}
            found = await user.sdk.store.search_items(["handbook"], query="vacation days", limit=1)
            assert len(found["items"]) == 1
            listed = await user.sdk.store.list_namespaces()
            assert listed["namespaces"] == [["handbook", "staff"]]
            # An empty prefix searches the user's own items (decision 0026).
            assert (await user.sdk.store.search_items([]))["items"] == []

    async def test_a_put_or_delete_is_403_naming_the_namespace_and_nothing_changes(
        self, users: list[SdkUser]
    ) -> None:
        alice, bob = users
        with pytest.raises(PermissionDeniedError) as refused:
            await alice.sdk.store.put_item(["handbook", "staff"], "leave", {"text": "90 days"})
        body = refused.value.response.json()
        assert body["error"] == "SharedNamespaceReadOnly"
        assert "['handbook', 'staff'] is the app's" in body["detail"]
        with pytest.raises(PermissionDeniedError):
            await alice.sdk.store.delete_item(["handbook", "staff"], "bikes")
        with pytest.raises(PermissionDeniedError):
            await alice.sdk.store.put_item(["handbook"], "mine", {"text": "a rule of my own"})
        assert await handbook(bob) == {"leave": LEAVE, "bikes": BIKES}

    async def test_each_users_own_items_stay_private(self, users: list[SdkUser]) -> None:
        alice, bob = users
        await alice.sdk.store.put_item(["app", "handbook"], "secret", {"text": "alice's"})
        assert (await bob.sdk.store.search_items(["app"]))["items"] == []
        assert await bob.sdk.store.get_item(["app", "handbook"], "secret") is None
        assert await handbook(bob) == {"leave": LEAVE, "bikes": BIKES}
        assert (await bob.sdk.store.list_namespaces())["namespaces"] == [["handbook", "staff"]]
        assert (await alice.sdk.store.list_namespaces())["namespaces"] == [
            ["app", "handbook"],
            ["handbook", "staff"],
        ]


class TestMemories:
    async def test_the_chat_api_shows_and_deletes_the_users_own_alone(
        self, users: list[SdkUser], app: Any
    ) -> None:
        alice, bob = users
        await alice.sdk.store.put_item(["memories"], "tea", {"text": "likes green tea"})
        chat = asgi_client(app, headers={"Authorization": alice.http.headers["Authorization"]})
        try:
            listed = (await chat.get("/api/v1/memories")).json()["items"]
            assert [(m["namespace"], m["key"]) for m in listed] == [(["memories"], "tea")]
            found = (await chat.get("/api/v1/memories", params={"q": "holiday"})).json()["items"]
            assert [m["key"] for m in found] == ["tea"]
            gone = await chat.delete(
                "/api/v1/memories/item", params={"namespace": ["handbook", "staff"], "key": "leave"}
            )
            assert gone.status_code == 404
            assert (await chat.delete("/api/v1/memories")).json() == {"deleted": 1}
        finally:
            await chat.aclose()
        assert await handbook(bob) == {"leave": LEAVE, "bikes": BIKES}


class TestGraphStore:
    async def test_a_graph_reads_them_through_runtime_store_and_its_write_is_refused(
        self, users: list[SdkUser], app: Any
    ) -> None:
        alice, bob = users
        thread = await alice.sdk.threads.create()
        ran = await alice.sdk.runs.wait(
            thread["thread_id"],
            "handbook",
            input={"messages": [{"role": "user", "content": "how many vacation days do I get?"}]},
        )
        reply = str(ran["messages"][-1]["content"])
        # By meaning where there are vectors; else the newest, then by key.
        assert reply.startswith((LEAVE if app.state.store.embeddings is not None else BIKES)["text"])
        assert "(SharedNamespaceReadOnly: The namespace ['handbook', 'staff'] is the app's" in reply
        assert await handbook(bob) == {"leave": LEAVE, "bikes": BIKES}
