"""End to end over HTTP through a real uvicorn process on the real database.

Two users chat (JSON and SSE), page history, give feedback, fork, archive and
delete; the server process is stopped and a new one started; everything is
exactly as it was, and the agent carries on from the restored state.
"""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import User
from tests.routes.test_messages import parse_sse
from tests.server import Server

DOMAIN = "e2e.example.com"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    server = Server(database_url, tmp_path)
    yield server
    server.stop()


@pytest.fixture
async def forget_e2e_users(engine: AsyncEngine) -> AsyncIterator[None]:
    yield
    async with engine.begin() as conn:
        await conn.execute(delete(User).where(User.email.like(f"%@{DOMAIN}")))


async def _login(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    password = "a long enough password"
    assert (
        await client.post("/auth/register", json={"email": email, "password": password})
    ).status_code == 201
    token = (await client.post("/auth/jwt/login", data={"username": email, "password": password})).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


async def _all_pages(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], key: str, **query: str
) -> list[Any]:
    items: list[Any] = []
    params: dict[str, Any] = {"limit": 3, **query}
    while True:
        page = (await client.get(url, params=params, headers=headers)).json()
        items += page["items"]
        if page[key] is None:
            return items
        params[{"next_cursor": "cursor", "next_before": "before"}[key]] = page[key]


async def _snapshot(server: Server, users: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Everything a client can see: conversations, messages, runs, checkpoints and their states."""
    snapshot: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=server.url) as client:
        for name, headers in users.items():
            conversations = await _all_pages(
                client, "/api/v1/conversations", headers, "next_cursor", archived="all"
            )
            snapshot[name] = {"conversations": conversations}
            for conversation in conversations:
                base = f"/api/v1/conversations/{conversation['id']}"
                checkpoints = await _all_pages(client, f"{base}/checkpoints", headers, "next_before")
                newest = checkpoints[0]["id"] if checkpoints else None
                snapshot[name][conversation["id"]] = {
                    "messages": await _all_pages(client, f"{base}/messages", headers, "next_before"),
                    "runs": (await client.get(f"{base}/runs", headers=headers)).json(),
                    "checkpoints": checkpoints,
                    "state": (await client.get(f"{base}/checkpoints/{newest}", headers=headers)).json()
                    if newest
                    else None,
                }
    return snapshot


async def test_conversations_survive_a_server_restart(server: Server, forget_e2e_users: None) -> None:
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        ann = await _login(client, f"ann-{uuid.uuid4().hex[:8]}@{DOMAIN}")
        ben = await _login(client, f"ben-{uuid.uuid4().hex[:8]}@{DOMAIN}")

        async def create(headers: dict[str, str], title: str | None = None) -> str:
            response = await client.post("/api/v1/conversations", json={"title": title}, headers=headers)
            return str(response.json()["id"])

        async def send(headers: dict[str, str], conversation: str, content: str) -> dict[str, Any]:
            url = f"/api/v1/conversations/{conversation}/messages"
            response = await client.post(url, json={"content": content}, headers=headers)
            assert response.status_code == 200, response.text
            return dict(response.json())

        research = await create(ann)
        first = await send(ann, research, "What makes chat memory durable?")
        await send(ann, research, "And how fast is it to load?")
        async with client.stream(
            "POST",
            f"/api/v1/conversations/{research}/messages",
            json={"content": "Stream the third answer"},
            headers={**ann, "Accept": "text/event-stream"},
        ) as streamed:
            events = parse_sse("".join([chunk async for chunk in streamed.aiter_text()]))
        assert [name for name, _ in events][-2:] == ["message", "done"]

        page = (await client.get(f"/api/v1/conversations/{research}/messages?limit=2", headers=ann)).json()
        assert page["items"][0]["content"] == "Stream the third answer"
        feedback = await client.put(
            f"/api/v1/runs/{first['run_id']}/feedback",
            json={"sentiment": "positive", "comment": "clear"},
            headers=ann,
        )
        assert feedback.status_code == 200
        fork = await client.post(
            f"/api/v1/conversations/{research}/fork",
            json={"checkpoint_id": first["assistant_message"]["checkpoint_id"]},
            headers=ann,
        )
        assert fork.status_code == 201
        await send(ann, fork.json()["id"], "A different direction")
        archived = await create(ann, "old notes")
        await send(ann, archived, "remember this")
        await client.patch(f"/api/v1/conversations/{archived}", json={"archived": True}, headers=ann)
        doomed = await create(ann, "to delete")
        await send(ann, doomed, "forget this")
        assert (await client.delete(f"/api/v1/conversations/{doomed}", headers=ann)).status_code == 204
        ben_chat = await create(ben)
        await send(ben, ben_chat, "Ben's own question")

    users = {"ann": ann, "ben": ben}
    before = await _snapshot(server, users)
    assert len(before["ann"]["conversations"]) == 3
    assert len(before["ben"]["conversations"]) == 1

    server.stop()
    await server.start()

    after = await _snapshot(server, users)
    assert after == before
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        # Tokens issued before the restart still work, and the agent goes on
        # from the restored state: this is its fourth message in the thread.
        fourth = await send_after_restart(client, ann, research, "Still there?")
        assert fourth == "Reply 4: you said “Still there?”."
        gone = await client.get(f"/api/v1/conversations/{doomed}", headers=ann)
        assert gone.status_code == 404


async def send_after_restart(
    client: httpx.AsyncClient, headers: dict[str, str], conversation: str, content: str
) -> str:
    url = f"/api/v1/conversations/{conversation}/messages"
    response = await client.post(url, json={"content": content}, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["assistant_message"]["content"])
