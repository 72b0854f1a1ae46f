# The SDK types its JSON loosely (values may be a list, metadata None): the
# tests index what this server returns.
# mypy: disable-error-code="index,call-overload,comparison-overlap,dict-item"
"""Threads through langgraph-sdk: made, read, searched, counted, updated and
deleted; the same conversations the chat API shows, and only the caller's."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from tests.langgraph_api.conftest import token_for
from tests.server import Server


async def test_server_info_and_assistants(sdk: LangGraphClient, server: Server) -> None:
    async with httpx.AsyncClient(base_url=f"{server.url}/langgraph") as bare:
        assert (await bare.get("/ok")).json() == {"ok": True}
        assert (await bare.get("/info")).json()["flags"]["assistants"] is True
    found = await sdk.assistants.search()
    assert {a["assistant_id"] for a in found} == {"chat", "research"}
    assert [a["graph_id"] for a in await sdk.assistants.search(graph_id="research")] == ["research"]
    assert [a["name"] for a in await sdk.assistants.search(name="chA")] == ["Chat"]
    chat = await sdk.assistants.get("chat")
    assert (chat["graph_id"], chat["version"]) == ("chat", 1)
    graph = await sdk.assistants.get_graph("chat")
    assert {"__start__", "__end__"} <= {node["id"] for node in graph["nodes"]}
    schemas = await sdk.assistants.get_schemas("research")
    assert schemas["graph_id"] == "research"
    assert "messages" in schemas["input_schema"]["properties"]
    with pytest.raises(NotFoundError):
        await sdk.assistants.get("no-such-graph")


async def test_a_thread_is_made_read_updated_and_deleted(sdk: LangGraphClient) -> None:
    thread = await sdk.threads.create(metadata={"topic": "tides"}, graph_id="research")
    assert thread["status"] == "idle"
    assert thread["metadata"] == {"topic": "tides", "graph_id": "research", "assistant_id": "research"}
    assert thread["values"] == {}
    assert thread["interrupts"] == {}
    assert (await sdk.threads.get(thread["thread_id"]))["metadata"]["topic"] == "tides"

    updated = await sdk.threads.update(thread["thread_id"], metadata={"pinned": True, "graph_id": "chat"})
    # Merged; the graph is the thread's, whatever the metadata says.
    assert updated["metadata"] == {
        "topic": "tides",
        "pinned": True,
        "graph_id": "research",
        "assistant_id": "research",
    }

    again = await sdk.threads.create(thread_id=thread["thread_id"], if_exists="do_nothing")
    assert again["thread_id"] == thread["thread_id"]
    with pytest.raises(ConflictError):
        await sdk.threads.create(thread_id=thread["thread_id"])
    with pytest.raises(UnprocessableEntityError):
        await sdk.threads.create(thread_id="not-a-uuid")
    with pytest.raises(UnprocessableEntityError):
        await sdk.threads.create(graph_id="no-such-graph")

    await sdk.threads.delete(thread["thread_id"])
    with pytest.raises(NotFoundError):
        await sdk.threads.get(thread["thread_id"])
    with pytest.raises(NotFoundError):
        await sdk.threads.delete(thread["thread_id"])


async def test_pages_of_a_search_agree_with_the_count(sdk: LangGraphClient) -> None:
    batch = uuid.uuid4().hex
    made = [(await sdk.threads.create(metadata={"batch": batch, "i": i}))["thread_id"] for i in range(5)]
    await sdk.threads.create(metadata={"batch": "another"})
    where = {"batch": batch}
    assert await sdk.threads.count(metadata=where) == 5
    assert await sdk.threads.count(metadata=where, status="busy") == 0
    paged = []
    for offset in range(0, 6, 2):
        page = await sdk.threads.search(
            metadata=where, limit=2, offset=offset, sort_by="created_at", sort_order="asc"
        )
        paged += [t["thread_id"] for t in page]
    assert paged == made
    newest_first = await sdk.threads.search(metadata=where, limit=10)
    assert [t["thread_id"] for t in newest_first] == made[::-1]
    picked = await sdk.threads.search(ids=[*made[1:3], "not-a-uuid"], select=["thread_id", "status"])
    assert sorted(picked, key=lambda t: t["thread_id"]) == sorted(
        ({"thread_id": i, "status": "idle"} for i in made[1:3]), key=lambda t: t["thread_id"]
    )
    assert await sdk.threads.count(metadata={**where, "i": 3}) == 1
    assert await sdk.threads.count(metadata={"graph_id": "chat", "batch": batch}) == 5


async def test_threads_are_the_chat_apis_conversations(sdk: LangGraphClient, api: httpx.AsyncClient) -> None:
    conversation = (await api.post("/api/v1/conversations", json={})).json()["id"]
    reply = await api.post(f"/api/v1/conversations/{conversation}/messages", json={"content": "hello there"})
    assert reply.status_code == 200, reply.text

    thread = await sdk.threads.get(conversation)
    assert thread["status"] == "idle"
    messages = thread["values"]["messages"]
    assert [(m["type"], m["content"]) for m in messages] == [
        ("human", "hello there"),
        ("ai", "Reply 1: you said “hello there”."),
    ]
    state = await sdk.threads.get_state(conversation)
    assert state["values"]["messages"] == messages
    assert state["next"] == []
    checkpoint = state["checkpoint"]["checkpoint_id"]
    assert checkpoint == reply.json()["assistant_message"]["checkpoint_id"]
    before = await sdk.threads.get_state(
        conversation, checkpoint_id=state["parent_checkpoint"]["checkpoint_id"]
    )
    assert [m["type"] for m in before["values"]["messages"]] == ["human"]
    with pytest.raises(NotFoundError):
        await sdk.threads.get_state(conversation, checkpoint_id="1f0-no-such-checkpoint")

    made = await sdk.threads.create(metadata={"from": "sdk"})
    listed = (await api.get("/api/v1/conversations")).json()["items"]
    assert {made["thread_id"], conversation} <= {c["id"] for c in listed}


async def test_another_users_thread_is_not_found(
    sdk: LangGraphClient, sdk_for: Callable[[str], LangGraphClient], server: Server
) -> None:
    mine = await sdk.threads.create(metadata={"secret": "yes"})
    theirs = sdk_for(await token_for(server))
    with pytest.raises(NotFoundError):
        await theirs.threads.get(mine["thread_id"])
    with pytest.raises(NotFoundError):
        await theirs.threads.get_state(mine["thread_id"])
    with pytest.raises(NotFoundError):
        await theirs.threads.update(mine["thread_id"], metadata={"taken": True})
    with pytest.raises(NotFoundError):
        await theirs.threads.delete(mine["thread_id"])
    assert await theirs.threads.search(metadata={"secret": "yes"}) == []
    assert await theirs.threads.count() == 0
    with pytest.raises(ConflictError):
        await theirs.threads.create(thread_id=mine["thread_id"], if_exists="do_nothing")
    assert (await sdk.threads.get(mine["thread_id"]))["metadata"]["secret"] == "yes"


@pytest.mark.parametrize(
    "body",
    [
        {"metadata": {"nul\x00key": 1}},
        {"metadata": {"k": "lone \ud800 surrogate"}},
        {"metadata": {"k": 2**64}},
        {"thread_id": "\x00"},
        {"if_exists": "sometimes"},
    ],
)
async def test_garbage_is_422_and_stores_nothing(server: Server, user: str, body: dict[str, object]) -> None:
    headers = {"Authorization": f"Bearer {user}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=f"{server.url}/langgraph", headers=headers) as client:
        # Sent as the bytes a client would: a lone surrogate cannot be UTF-8, so it goes escaped.
        made = await client.post("/threads", content=json.dumps(body))
        assert made.status_code == 422, made.text
        assert made.json()["error"] == "ValidationError"
        if "metadata" in body:  # a filter of such keys or values is as invalid
            searched = await client.post("/threads/search", content=json.dumps(body))
            assert searched.status_code == 422, searched.text
        assert (await client.post("/threads/count", content="{}")).json() == 0


async def test_the_sdks_api_key_is_taken_as_the_token(server: Server, user: str) -> None:
    """As agent-chat-ui and the SDKs send a key: `X-Api-Key`, on this API only."""
    client = get_client(url=f"{server.url}/langgraph", api_key=user)
    try:
        made = await client.threads.create(metadata={"via": "api key"})
        assert (await client.threads.get(made["thread_id"]))["metadata"]["via"] == "api key"
    finally:
        await client.aclose()
    async with httpx.AsyncClient(base_url=server.url, headers={"X-Api-Key": user}) as bare:
        assert (await bare.get("/api/v1/conversations")).status_code == 401
        assert (await bare.post("/langgraph/threads/count", json={})).json() == 1


async def test_a_search_extracts_values_by_path(sdk: LangGraphClient, api: httpx.AsyncClient) -> None:
    conversation = (await api.post("/api/v1/conversations", json={})).json()["id"]
    await api.post(f"/api/v1/conversations/{conversation}/messages", json={"content": "pick me"})
    paths = {
        "last": "values.messages[-1].content",
        "first_type": "values.messages[0].type",
        "gone": "values.x[3]",
    }
    [found] = await sdk.threads.search(ids=[conversation], select=["thread_id"], extract=paths)
    assert found == {
        "thread_id": conversation,
        "extracted": {"last": "Reply 1: you said “pick me”.", "first_type": "human", "gone": None},
    }
    with pytest.raises(UnprocessableEntityError):
        await sdk.threads.search(extract={"bad": "values..messages"})
    with pytest.raises(UnprocessableEntityError):
        await sdk.threads.search(extract={f"a{i}": "values" for i in range(11)})


async def test_threads_filtered_by_their_values(sdk: LangGraphClient) -> None:
    batch = uuid.uuid4().hex
    said = [(await sdk.threads.create(metadata={"batch": batch}))["thread_id"] for _ in range(3)]
    for thread, text in zip(said, ["tides", "waves", "tides"], strict=True):
        await sdk.runs.wait(thread, "chat", input={"messages": [{"role": "user", "content": text}]})
    where = {"batch": batch}
    about_tides = {"messages": [{"type": "human", "content": "tides"}]}
    found = await sdk.threads.search(
        metadata=where, values=about_tides, sort_by="created_at", sort_order="asc"
    )
    assert [t["thread_id"] for t in found] == [said[0], said[2]]
    assert await sdk.threads.count(metadata=where, values=about_tides) == 2
    page = await sdk.threads.search(metadata=where, values=about_tides, limit=1, offset=1, sort_order="asc")
    assert [t["thread_id"] for t in page] == [said[2]]
    assert await sdk.threads.count(metadata=where, values={"messages": [{"content": "nothing"}]}) == 0


async def test_routes_not_served_answer_404_or_405_in_the_error_shape(sdk: LangGraphClient) -> None:
    """The SDK's calls this server does not serve (docs/agent-server.md's table): a clear
    error that a client raises from, never a 500."""
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/runs/cancel", {"run_ids": []}),
        ("POST", "/mcp", {}),
    ]
    for method, path, body in calls:
        answer = await sdk.http.client.request(method, path, json=body)
        assert answer.status_code in (404, 405), (method, path, answer.status_code)
        assert set(answer.json()) == {"error", "detail"}, (method, path)
