"""The AI SDK's own client reads our UI message stream: AI SDK 7 and 5, in Node.js.

`read_reply.mjs` sends through `DefaultChatTransport`, which validates every
chunk against the SDK's schema, and folds them with `readUIMessageStream`, as
`useChat` does; `read_research.mjs` does the same with the research agent's
tool calls, its interrupt, and the resume that answers it; `read_resume.mjs`
reconnects as `useChat({resume: true})` does on mount. `make test`
installs the packages (`npm ci`) when npm is there.
"""

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.ai_sdk.conftest import DOMAIN
from tests.ai_sdk.node import run_node
from tests.research_client import APPROVE, ASK, SUMMARY, history, research_conversation
from tests.server import Server, running


@pytest.mark.parametrize("package", ["ai", "ai5"])
async def test_use_chats_transport_reads_a_reply(node: str, server: Server, package: str) -> None:
    email, password = f"{uuid.uuid4().hex[:10]}@{DOMAIN}", "a long enough password"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await client.post("/auth/register", json={"email": email, "password": password})
        login = await client.post("/auth/jwt/login", data={"username": email, "password": password})
        token = login.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        conversation = (await client.post("/api/v1/conversations", json={}, headers=headers)).json()["id"]

        result = await run_node(
            node, "read_reply.mjs", package, server.url, token, conversation, f"hello from {package}"
        )

        history = (await client.get(f"/api/v1/conversations/{conversation}/messages", headers=headers)).json()
    assert result["errors"] == []
    message = result["message"]
    user, reply = history["items"]
    assert (message["id"], message["role"]) == (str(reply["id"]), "assistant")
    [text] = [part for part in message["parts"] if part["type"] == "text"]
    assert (text["text"], text["state"]) == (reply["content"], "done")
    data = {part["type"]: part for part in message["parts"] if part["type"].startswith("data-")}
    assert data["data-user-message"]["data"]["content"] == user["content"] == f"hello from {package}"
    assert data["data-assistant-message"]["data"]["checkpoint_id"] == reply["checkpoint_id"]
    # The run's part came twice with one id: the client kept one, the outcome.
    runs = [part for part in message["parts"] if part["type"] == "data-run"]
    assert [run["data"]["status"] for run in runs] == ["succeeded"]


async def _log_in(client: httpx.AsyncClient) -> str:
    """A new user, logged in on `client`; their token."""
    email, password = f"{uuid.uuid4().hex[:10]}@{DOMAIN}", "a long enough password"
    await client.post("/auth/register", json={"email": email, "password": password})
    login = await client.post("/auth/jwt/login", data={"username": email, "password": password})
    token = str(login.json()["access_token"])
    client.headers["Authorization"] = f"Bearer {token}"
    return token


def _tool(message: dict[str, Any], name: str) -> dict[str, Any]:
    [part] = [p for p in message["parts"] if p["type"] == f"tool-{name}"]
    return dict(part)


@pytest.mark.parametrize("package", ["ai", "ai5"])
async def test_use_chats_transport_reads_tools_and_an_interrupt(
    node: str, server: Server, package: str
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        token = await _log_in(client)
        conversation = await research_conversation(client)

        answer = json.dumps(APPROVE)
        result = await run_node(
            node, "read_research.mjs", package, server.url, token, conversation, ASK, answer
        )

        messages = await history(client, conversation)
    first, second = result["first"], result["second"]
    assert first["errors"] == second["errors"] == []
    search = _tool(first["message"], "search_conversations")
    assert (search["state"], search["input"]) == ("output-available", {"query": "durable memory"})
    assert search["output"] == messages[2]["content"]
    pending = _tool(first["message"], "save_note")
    assert (pending["state"], pending["input"]) == ("input-available", {"text": SUMMARY})
    [interrupt] = [p for p in first["message"]["parts"] if p["type"] == "data-interrupt"]
    assert interrupt["data"]["content"] == f"Save this note? “{SUMMARY}”"
    assert interrupt["id"] == interrupt["data"]["metadata"]["interrupt_id"]
    assert [p["data"]["status"] for p in first["message"]["parts"] if p["type"] == "data-run"] == [
        "interrupted"
    ]

    saved = _tool(second["message"], "save_note")
    assert (saved["state"], saved["input"]) == ("output-available", {"text": SUMMARY})
    assert saved["output"].startswith("Saved note ")
    [text] = [p for p in second["message"]["parts"] if p["type"] == "text"]
    assert text["text"] == messages[-1]["content"]
    assert [p["data"]["status"] for p in second["message"]["parts"] if p["type"] == "data-run"] == [
        "succeeded"
    ]


@pytest.fixture
async def slow_server(database_url: str, tmp_path: Path, engine: AsyncEngine) -> AsyncIterator[Server]:
    # Tokens slow enough that a reply (some 600 tokens: twelve seconds at
    # least) is still streaming when the client reconnects.
    async with running(database_url, tmp_path, engine, DOMAIN, LOCAL_TOKEN_DELAY="0.02") as server:
        yield server


@pytest.mark.parametrize("package", ["ai", "ai5"])
async def test_resume_true_reconnects_to_a_run_in_progress(
    node: str, slow_server: Server, package: str
) -> None:
    async with httpx.AsyncClient(base_url=slow_server.url, timeout=60) as client:
        token = await _log_in(client)
        conversation = (await client.post("/api/v1/conversations", json={})).json()["id"]
        args = (package, slow_server.url, token, conversation)
        idle = await run_node(node, "read_resume.mjs", *args)
        assert (idle["resumed"], idle["message"]) == (False, None)  # 204: nothing to resume

        # A tab sends a long message, reads its first events and is closed.
        url = f"/api/v1/conversations/{conversation}/messages?stream=ui"
        async with client.stream("POST", url, json={"content": "word " * 300}) as response:
            async for chunk in response.aiter_text():
                if "text-delta" in chunk:
                    break
        # The reloaded page reconnects while the reply is still being written.
        resumed = await run_node(node, "read_resume.mjs", *args)
        reply = (await client.get(f"/api/v1/conversations/{conversation}/messages")).json()["items"][-1]
    assert resumed["errors"] == []
    assert resumed["resumed"] is True
    message = resumed["message"]
    assert (message["id"], message["role"]) == (str(reply["id"]), "assistant")
    # A replay from the run's start: the whole reply, as the history has it.
    [text] = [part for part in message["parts"] if part["type"] == "text"]
    assert (text["text"], text["state"]) == (reply["content"], "done")
    assert reply["status"] == "complete"
