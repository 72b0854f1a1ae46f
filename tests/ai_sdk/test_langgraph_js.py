"""@langchain/langgraph-sdk in Node.js against the Agent Server API of a real
server: its `Client` (`langgraph_client.mjs`) and `useStream`, the React hook
its chat UIs are built on, rendered as a UI renders it (`use_stream.mjs`).
Each runs a chat turn, the research agent's interrupt and its resume; the
chat API then shows the same conversations."""

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.ai_sdk.conftest import DOMAIN
from tests.ai_sdk.node import run_node
from tests.content_blocks import image, with_text
from tests.research_client import APPROVE, ASK, reject
from tests.server import Server

PASSWORD = "a long enough password"


@asynccontextmanager
async def _logged_in(server: Server) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A new user's chat API client, and their token."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        email = f"{uuid.uuid4().hex[:10]}@{DOMAIN}"
        await client.post("/auth/register", json={"email": email, "password": PASSWORD})
        login = await client.post("/auth/jwt/login", data={"username": email, "password": PASSWORD})
        token = login.json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client, token


async def _history(client: httpx.AsyncClient, conversation: str) -> list[tuple[str, Any]]:
    items = (await client.get(f"/api/v1/conversations/{conversation}/messages")).json()["items"]
    return [(m["role"], m["content"]) for m in items]


async def test_the_js_client_chats_resumes_and_rejoins(node: str, server: Server) -> None:
    async with _logged_in(server) as (client, token):
        seen = await run_node(node, "langgraph_client.mjs", server.url, token)
        reply = "Reply 1: you said “hello from js”."
        assert seen["turn"][0] == ["metadata", "1"]
        assert seen["turn"][-1][0] == "end"
        assert seen["tokens"] == reply
        assert seen["values"] == [["human", "hello from js"], ["ai", reply]]
        assert seen["rejoined"] == seen["expected"]  # after the third event: the rest, exactly
        assert [a["name"] for a in seen["interrupt"][0]["value"]["action_requests"]] == ["save_note"]
        assert seen["status"] == "interrupted"
        assert seen["resumed"][-1] == "ai"
        assert await _history(client, seen["chat"]) == [("user", "hello from js"), ("assistant", reply)]
        listed = {c["id"]: c for c in (await client.get("/api/v1/conversations")).json()["items"]}
        assert listed[seen["research"]]["assistant_id"] == "research"


async def test_use_stream_chats_and_answers_an_interrupt(node: str, server: Server) -> None:
    async with _logged_in(server) as (client, token):
        chat = await run_node(node, "use_stream.mjs", server.url, token, "chat", "hello from useStream")
        reply = "Reply 1: you said “hello from useStream”."
        assert chat["first"] == {
            "messages": [["human", "hello from useStream"], ["ai", reply]],
            "interrupt": None,
            "error": None,
        }
        assert await _history(client, chat["threadId"]) == [
            ("user", "hello from useStream"),
            ("assistant", reply),
        ]

        # The standard approval request, answered as agent-chat-ui's controls do.
        approve = json.dumps({"resume": APPROVE})
        research = await run_node(node, "use_stream.mjs", server.url, token, "research", ASK, approve)
        request = research["first"]["interrupt"]
        assert [a["name"] for a in request["action_requests"]] == ["save_note"]
        assert request["review_configs"][0]["allowed_decisions"] == ["approve", "edit", "reject"]
        assert research["first"]["error"] is None
        assert research["second"]["interrupt"] is None
        assert research["second"]["messages"][-1][0] == "ai"
        assert "Saved note" in research["second"]["messages"][-2][1]
        roles = [role for role, _ in await _history(client, research["threadId"])]
        assert roles[0] == "user"
        assert "interrupt" in roles
        assert roles[-1] == "assistant"

        refuse = json.dumps({"resume": reject("not that")})
        rejected = await run_node(node, "use_stream.mjs", server.url, token, "research", ASK, refuse)
        assert rejected["second"]["error"] is None
        assert rejected["second"]["messages"][-1][1].endswith(
            "I did not run save_note. The user rejected it: not that"
        )


async def test_use_stream_typing_instead_of_answering_goes_past_the_interrupt(
    node: str, server: Server
) -> None:
    """agent-chat-ui sends a placeholder result for the waiting call and the
    message; the Agent Server runs them, and so does this server."""
    async with _logged_in(server) as (client, token):
        say = json.dumps({"say": "never mind"})
        seen = await run_node(node, "use_stream.mjs", server.url, token, "research", ASK, say)
        items = (await client.get(f"/api/v1/conversations/{seen['threadId']}/messages")).json()["items"]
    assert seen["first"]["interrupt"] is not None
    second = seen["second"]
    assert (second["error"], second["interrupt"]) == (None, None)
    assert [kind for kind, _ in second["messages"][-4:]] == ["ai", "tool", "human", "ai"]
    assert second["messages"][-3][1] == "Successfully handled tool call."
    assert second["messages"][-1][1] == "Reply 2: you said “never mind”."
    # The question waits no more in the history either.
    [asked] = [m for m in items if m["role"] == "interrupt"]
    assert asked["metadata"]["pending"] is False


async def test_use_stream_sends_an_image_as_content_blocks(node: str, server: Server) -> None:
    async with _logged_in(server) as (client, token):
        content = with_text("what is this?", image("dot.png"))
        seen = await run_node(node, "use_stream.mjs", server.url, token, "chat", json.dumps(content))
        reply = "Reply 1: you said “what is this?”."
        assert seen["first"]["messages"] == [["human", content], ["ai", reply]]
        assert seen["first"]["error"] is None
        assert await _history(client, seen["threadId"]) == [("user", content), ("assistant", reply)]


async def test_the_js_client_keeps_each_users_store_items_their_own(node: str, server: Server) -> None:
    async with _logged_in(server) as (_, alice), _logged_in(server) as (_, bob):
        mine = await run_node(node, "store_client.mjs", server.url, alice, "alice", "alice")
        tea = {"likes": "green tea", "cups": 10}
        assert mine["item"] == {"namespace": ["prefs", "js"], "key": "tea", "value": tea}
        assert mine["found"] == ["tea"]  # 10 > 9 as numbers
        assert mine["namespaces"] == [["prefs"], ["secrets"]]
        assert mine["theirs"] == {"text": "only alice knows"}
        # Bob reads the key Alice put, under the same namespace: his store has none.
        theirs = await run_node(node, "store_client.mjs", server.url, bob, "bob", "alice")
        assert theirs["theirs"] is None
