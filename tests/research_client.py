"""Driving the research agent over HTTP: a search, a note, the approval in between."""

from typing import Any

import httpx

from tests.routes.test_messages import parse_sse
from tests.routes.test_ui_message_stream import check_ui_message_stream

ASK = "search for durable memory and save a note"
# Answers to the approval request (LangChain's HumanInTheLoopMiddleware format).
APPROVE: dict[str, Any] = {"decisions": [{"type": "approve"}]}


def reject(message: str | None = None) -> dict[str, Any]:
    return {"decisions": [{"type": "reject", **({"message": message} if message else {})}]}


SUMMARY = "2 message(s) in 1 conversation(s) mention it: “Durable memory” (2)."


async def research_conversation(client: httpx.AsyncClient) -> str:
    """A research conversation, beside another conversation that mentions durable memory."""
    other = (await client.post("/api/v1/conversations", json={"title": "Durable memory"})).json()["id"]
    sent = await client.post(
        f"/api/v1/conversations/{other}/messages", json={"content": "durable memory matters"}
    )
    assert sent.status_code == 200, sent.text
    created = await client.post("/api/v1/conversations", json={"assistant_id": "research"})
    assert created.status_code == 201, created.text
    assert created.json()["assistant_id"] == "research"
    return str(created.json()["id"])


async def stream(client: httpx.AsyncClient, conversation: str, body: dict[str, Any], kind: str) -> Any:
    """Send `body` with `?stream=kind`; the named events, or the checked UI parts."""
    url = f"/api/v1/conversations/{conversation}/messages?stream={kind}"
    async with client.stream("POST", url, json=body) as response:
        text = "".join([chunk async for chunk in response.aiter_text()])
    assert response.status_code == 200, text
    return parse_sse(text) if kind == "events" else check_ui_message_stream(response, text)


async def history(client: httpx.AsyncClient, conversation: str) -> list[dict[str, Any]]:
    page = (await client.get(f"/api/v1/conversations/{conversation}/messages")).json()
    return list(page["items"])


async def runs(client: httpx.AsyncClient, conversation: str) -> list[dict[str, Any]]:
    """Oldest first."""
    return list(reversed((await client.get(f"/api/v1/conversations/{conversation}/runs")).json()["items"]))


def shape(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each message as (role, what it did): its tool call, tool result status, or text."""
    described = []
    for m in messages:
        if m["role"] == "assistant" and m["metadata"].get("tool_calls"):
            described.append(("assistant", "call " + m["metadata"]["tool_calls"][0]["name"]))
        elif m["role"] == "tool":
            described.append(("tool", f"{m['metadata']['name']} {m['metadata']['status']}"))
        else:
            described.append((m["role"], m["content"]))
    return described
