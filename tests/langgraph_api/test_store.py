# The SDK types its JSON loosely: the tests index what this server returns.
# mypy: disable-error-code="index,call-overload,typeddict-item,arg-type"
"""The store (long-term memory) through langgraph-sdk, unchanged: each
user's items their own through `client.store` and through a graph
(tests/langgraph_api/memory_project), filters right, bad input a 422."""

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.agents.local_model import LocalChatModel
from tests.http_client import AppFactory
from tests.langgraph_api.in_process import SdkUser, sdk_users

PROJECT = Path(__file__).parent / "memory_project" / "langgraph.json"
# 4,000 characters that do not compress: PostgreSQL would store them as a
# value, not as an index row (at most 2,704 bytes).
LONG = "".join(hashlib.sha256(str(n).encode()).hexdigest() for n in range(63))[:4000]


@pytest.fixture
async def app(app_factory: AppFactory) -> Any:
    return await app_factory(LocalChatModel(), PROJECT)


@pytest.fixture
async def users(app: Any) -> AsyncIterator[list[SdkUser]]:
    """Two users, each with an SDK client of the Agent Server API."""
    async with sdk_users(app) as made:
        yield made


def said(text: str) -> dict[str, list[dict[str, str]]]:
    return {"messages": [{"role": "user", "content": text}]}


def reply(state: Any) -> str:
    return str(state["messages"][-1]["content"])


class TestClientStore:
    async def test_items_are_put_read_searched_listed_and_deleted_by_their_owner_alone(
        self, users: list[SdkUser]
    ) -> None:
        alice, bob = users
        await alice.sdk.store.put_item(["prefs", "food"], "tea", {"likes": "green tea", "cups": 3})
        item = await alice.sdk.store.get_item(["prefs", "food"], "tea")
        assert item["namespace"] == ["prefs", "food"]
        assert item["value"] == {"likes": "green tea", "cups": 3}

        assert await bob.sdk.store.get_item(["prefs", "food"], "tea") is None
        assert (await bob.sdk.store.search_items(["prefs"]))["items"] == []
        assert (await bob.sdk.store.list_namespaces())["namespaces"] == []
        await bob.sdk.store.delete_item(["prefs", "food"], "tea")
        # Another user's id as a label, or a wildcard, stays inside the caller's own.
        assert (await bob.sdk.store.search_items([alice.id]))["items"] == []
        assert (await bob.sdk.store.list_namespaces(prefix=["*"]))["namespaces"] == []

        found = await alice.sdk.store.search_items(["prefs"], filter={"cups": {"$gt": 2}})
        assert [i["key"] for i in found["items"]] == ["tea"]
        assert (await alice.sdk.store.list_namespaces(max_depth=1))["namespaces"] == [["prefs"]]
        await alice.sdk.store.delete_item(["prefs", "food"], "tea")
        assert await alice.sdk.store.get_item(["prefs", "food"], "tea") is None

    async def test_filters_compare_numbers_as_numbers(self, users: list[SdkUser]) -> None:
        alice, _ = users
        for key, score in (("nine", 9), ("ten", 10), ("text", "10")):
            await alice.sdk.store.put_item(["scores"], key, {"score": score})
        found = await alice.sdk.store.search_items(["scores"], filter={"score": {"$gt": 9}})
        assert {i["key"] for i in found["items"]} == {"ten"}
        found = await alice.sdk.store.search_items(["scores"], filter={"score": {"$in": [9, "10"]}})
        assert {i["key"] for i in found["items"]} == {"nine", "text"}

    @pytest.mark.parametrize(
        ("method", "path", "body", "cause"),
        [
            ("PUT", "/store/items", {"namespace": ["a\u0000"], "key": "k", "value": {}}, "NUL"),
            ("PUT", "/store/items", {"namespace": ["a"], "key": "k", "value": {"t": "\ud800"}}, "surrogate"),
            ("PUT", "/store/items", {"namespace": [""], "key": "k", "value": {}}, "empty"),
            ("PUT", "/store/items", {"namespace": ["a.b"], "key": "k", "value": {}}, "period"),
            ("PUT", "/store/items", {"namespace": ["a"] * 17, "key": "k", "value": {}}, "at most 16"),
            # Longer than an index row of PostgreSQL's may be: refused, not failed in the insert.
            ("PUT", "/store/items", {"namespace": ["a"], "key": LONG, "value": {}}, "bytes"),
            ("PUT", "/store/items", {"namespace": [LONG], "key": "k", "value": {}}, "bytes"),
            ("PUT", "/store/items", {"namespace": ["a"], "key": "k", "value": {}, "index": [LONG]}, "bytes"),
            (
                "PUT",
                "/store/items",
                {"namespace": ["a"], "key": "k", "value": {"t": "x" * 1_100_000}},
                "bytes",
            ),
            (
                "POST",
                "/store/items/search",
                {"namespace_prefix": ["a"], "filter": {"x": {"$re": 1}}},
                "operator",
            ),
            ("POST", "/store/items/search", {"namespace_prefix": ["a"], "limit": 0}, "limit"),
            ("POST", "/store/items/search", {"namespace_prefix": ["a"], "limit": 5000}, "limit"),
            ("POST", "/store/namespaces", {"prefix": ["a."]}, "period"),
            ("POST", "/store/namespaces", {"limit": -1}, "limit"),
        ],
    )
    async def test_bad_input_is_a_422_with_its_cause_and_nothing_is_stored(
        self, users: list[SdkUser], method: str, path: str, body: dict[str, Any], cause: str
    ) -> None:
        alice, _ = users
        # As JSON escapes, so a lone surrogate reaches the server as a client can send it.
        content = json.dumps(body)
        response = await alice.http.request(
            method, path, content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, response.text
        assert cause in response.json()["detail"]
        assert (await alice.sdk.store.search_items([]))["items"] == []

    async def test_info_says_the_store_is_served_and_whether_it_searches_by_meaning(
        self, users: list[SdkUser], app: Any
    ) -> None:
        flags = (await users[0].http.get("/info")).json()["flags"]
        assert flags["store"] is True
        assert flags["store_search_by_meaning"] is (app.state.store.embeddings is not None)

    async def test_an_unknown_key_reads_as_null(self, users: list[SdkUser]) -> None:
        assert await users[0].sdk.store.get_item(["nothing"], "here") is None


class TestGraphStore:
    async def test_a_memory_graph_recalls_across_threads_for_its_user_alone(
        self, users: list[SdkUser]
    ) -> None:
        alice, bob = users
        first = await alice.sdk.threads.create()
        told = await alice.sdk.runs.wait(first["thread_id"], "memory", input=said("remember I like tea"))
        assert reply(told) == "I remember: I like tea"

        later = await alice.sdk.threads.create()
        asked = await alice.sdk.runs.wait(later["thread_id"], "memory", input=said("what do you know?"))
        assert reply(asked) == "I remember: I like tea"

        theirs = await bob.sdk.threads.create()
        asked = await bob.sdk.runs.wait(theirs["thread_id"], "memory", input=said("what do you know?"))
        assert reply(asked) == "I remember: "

        # The client sees the graph's namespace as the graph wrote it.
        found = await alice.sdk.store.search_items(["memories", alice.id])
        assert [i["value"]["fact"] for i in found["items"]] == ["I like tea"]
        assert (await bob.sdk.store.search_items(["memories"]))["items"] == []

    async def test_get_store_and_an_injected_store_reach_the_runs_user_whatever_the_context_says(
        self, users: list[SdkUser]
    ) -> None:
        alice, bob = users
        await alice.sdk.store.put_item(["notes", alice.id], "last", {"text": "alice's secret"})
        thread = await bob.sdk.threads.create()
        # Bob names Alice's id in the context: the graph writes into Bob's store.
        ran = await bob.sdk.runs.wait(
            thread["thread_id"], "notes", input=said("hi"), context={"user_id": alice.id}
        )
        assert reply(ran) == f"notes.{alice.id}=hi"
        assert (await alice.sdk.store.get_item(["notes", alice.id], "last"))["value"] == {
            "text": "alice's secret"
        }
        assert (await bob.sdk.store.get_item(["notes", alice.id], "last"))["value"] == {"text": "hi"}

    async def test_a_factorys_server_runtime_holds_the_runs_users_store(self, users: list[SdkUser]) -> None:
        alice, bob = users
        for expected in ("seen 0", "seen 1"):
            thread = await alice.sdk.threads.create()
            ran = await alice.sdk.runs.wait(thread["thread_id"], "factory", input=said("hi"))
            assert reply(ran) == expected
        thread = await bob.sdk.threads.create()
        assert reply(await bob.sdk.runs.wait(thread["thread_id"], "factory", input=said("hi"))) == "seen 0"
