"""The research agent through a real server that is restarted while it waits for
the user: approve and reject, each tool call → tool result → interrupt →
restart → resume → final answer, checked in the history, the runs, the
checkpoints and both streams."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.research_client import (
    APPROVE,
    ASK,
    SUMMARY,
    history,
    reject,
    research_conversation,
    runs,
    shape,
    stream,
)
from tests.server import Server, running

DOMAIN = "research.example.com"


@pytest.fixture
async def server(database_url: str, tmp_path: Path, engine: AsyncEngine) -> AsyncIterator[Server]:
    async with running(database_url, tmp_path, engine, DOMAIN) as server:
        yield server


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        yield client


@dataclass(frozen=True)
class Branch:
    answer: dict[str, object]
    # The stream the first run is read in, then the resume's.
    first: str
    then: str
    # The tool result after the interrupt, and what the final answer says.
    result: str
    ending: str


APPROVED = Branch(APPROVE, "events", "ui", "save_note success", "Saved note ")
REJECTED = Branch(reject("not now"), "ui", "events", "save_note error", "I did not run save_note.")


async def _logged_in(client: httpx.AsyncClient) -> None:
    email, password = f"{uuid.uuid4().hex[:10]}@{DOMAIN}", "a long enough password"
    await client.post("/auth/register", json={"email": email, "password": password})
    login = await client.post("/auth/jwt/login", data={"username": email, "password": password})
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"


@pytest.mark.parametrize("branch", [APPROVED, REJECTED], ids=["approve", "reject"])
async def test_an_interrupt_waits_across_a_restart(
    server: Server, client: httpx.AsyncClient, branch: Branch
) -> None:
    await _logged_in(client)
    conversation = await research_conversation(client)
    await stream(client, conversation, {"content": ASK}, branch.first)
    before = shape(await history(client, conversation))
    assert before == [
        ("user", ASK),
        ("assistant", "call search_conversations"),
        ("tool", "search_conversations success"),
        ("assistant", "call save_note"),
        ("interrupt", f"Save this note? “{SUMMARY}”"),
    ]

    server.stop()
    await server.start()

    # Still waiting after the restart: a message is refused, the answer taken.
    url = f"/api/v1/conversations/{conversation}/messages"
    refused = await client.post(url, json={"content": "hello?"})
    assert refused.json()["error"] == "InterruptPending"
    resumed = await stream(client, conversation, {"resume": branch.answer}, branch.then)
    if branch.then == "events":
        assert resumed[0][0] == "tool-result"
        assert [name for name, _ in resumed][-2:] == ["message", "done"]
    else:
        assert [p for p in resumed if p["type"].startswith("tool-output")]

    after = await history(client, conversation)
    assert shape(after)[: len(before)] == before
    assert shape(after)[len(before)] == ("tool", branch.result)
    assert after[-1]["role"] == "assistant"
    assert branch.ending in after[-1]["content"]
    assert after[len(before) - 1]["metadata"]["answer"] == branch.answer
    statuses = [(r["status"], r["resume"]) for r in await runs(client, conversation)]
    assert statuses == [("interrupted", None), ("succeeded", branch.answer)]
    checkpoints = (await client.get(f"/api/v1/conversations/{conversation}/checkpoints")).json()["items"]
    latest = (
        await client.get(f"/api/v1/conversations/{conversation}/checkpoints/{checkpoints[0]['id']}")
    ).json()
    assert latest["messages"][-1]["content"] == after[-1]["content"]
