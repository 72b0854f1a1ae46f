"""Many clients sending to one conversation at once, over two app processes
(on the database directly and through PgBouncer), on both APIs and with every
multitask strategy: each gets what its strategy promises (one run and 409
RunInProgress for the rest, or a place in the queue, or the runs before it
cancelled), never a 500."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conditions import until
from tests.conftest import TEST_DATABASE
from tests.pgbouncer import database_via
from tests.server import one_user_on, running

DOMAIN = "admission.example.com"
SENDERS = 20
# A token a second over a long reply: the first run is still going when the
# last sender is answered, whatever the machine's speed; each test ends it.
ENV = {
    "LOCAL_TOKEN_DELAY": "1",
    "CHAT_RUN_LEASE": "5",
    "CHAT_POLL_INTERVAL": "0.2",
    "SECRET_KEY": "admission-test-secret-key-of-enough-length",
}
LONG = "word " * 400
STRATEGIES = ["reject", "enqueue", "interrupt", "rollback"]


@pytest.fixture(scope="module", params=["direct", "pgbouncer"])
async def clients(
    request: pytest.FixtureRequest,
    database_url: str,
    test_server_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    engine: AsyncEngine,
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One user, a client on each of two processes, on the database directly
    or through PgBouncer in transaction mode."""
    root: Path = tmp_path_factory.mktemp("admission")
    (root / "a").mkdir()
    (root / "b").mkdir()
    async with (
        database_via(request.param, database_url, test_server_url, TEST_DATABASE) as url,
        running(url, root / "a", engine, DOMAIN, **ENV) as a,
        running(url, root / "b", engine, DOMAIN, **ENV) as b,
        one_user_on(a, b, DOMAIN) as (on_a, on_b),
    ):
        yield [on_a, on_b]


async def _chat_send(client: httpx.AsyncClient, conversation: str, strategy: str) -> tuple[int, Any]:
    """A message sent streaming: the status, and the error if refused. The
    client leaves once the stream opens (a queued run's sends only heartbeats
    until its turn); the run goes on."""
    url = f"/api/v1/conversations/{conversation}/messages?stream=events"
    body = {"content": LONG, "multitask_strategy": strategy}
    async with client.stream("POST", url, json=body) as response:
        if response.status_code != 200:
            return response.status_code, json.loads(await response.aread())
        return 200, None


async def _agent_server_send(client: httpx.AsyncClient, thread: str, strategy: str) -> tuple[int, Any]:
    body = {
        "assistant_id": "chat",
        "input": {"messages": [{"role": "user", "content": LONG}]},
        "multitask_strategy": strategy,
    }
    response = await client.post(f"/langgraph/threads/{thread}/runs", json=body)
    return response.status_code, response.json()


async def _runs(client: httpx.AsyncClient, conversation: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/conversations/{conversation}/runs", params={"limit": 100})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def _settled(client: httpx.AsyncClient, conversation: str) -> list[dict[str, Any]] | None:
    """The runs once every cancel asked for has been carried out: one run active."""
    runs = await _runs(client, conversation)
    active = [r for r in runs if r["status"] in ("pending", "running")]
    return runs if len(active) == 1 and active[0]["status"] == "running" else None


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("api", ["chat", "agent_server"])
async def test_concurrent_senders_get_what_their_strategy_promises(
    clients: list[httpx.AsyncClient], api: str, strategy: str
) -> None:
    first = clients[0]
    send: Callable[[httpx.AsyncClient, str, str], Awaitable[tuple[int, Any]]]
    if api == "chat":
        conversation = (await first.post("/api/v1/conversations", json={})).json()["id"]
        send = _chat_send
    else:
        conversation = (await first.post("/langgraph/threads", json={})).json()["thread_id"]
        send = _agent_server_send
    answers = await asyncio.gather(*(send(clients[i % 2], conversation, strategy) for i in range(SENDERS)))
    try:
        statuses = sorted(status for status, _ in answers)
        if strategy == "reject":
            assert statuses == [200] + [409] * (SENDERS - 1), answers
            assert {a["error"] for s, a in answers if s == 409} == {"RunInProgress"}
            runs = await _runs(first, conversation)
            assert [r["status"] for r in runs] == ["running"]
        elif strategy == "enqueue":
            assert statuses == [200] * SENDERS, answers
            runs = await _runs(first, conversation)
            assert sorted(r["status"] for r in runs) == ["pending"] * (SENDERS - 1) + ["running"]
        else:
            assert statuses == [200] * SENDERS, answers
            # Each newcomer cancelled the runs before it: the last admitted runs.
            runs = await until(lambda: _settled(first, conversation), "the cancels carried out")
            ended = [r for r in runs if r["status"] not in ("pending", "running")]
            if strategy == "interrupt":
                assert len(runs) == SENDERS
                assert {r["status"] for r in ended} == {"cancelled"}
            else:  # a rolled back run leaves no record
                assert [r["status"] for r in runs] == ["running"]
    finally:
        # Its runs end with it.
        deleted = await first.delete(f"/api/v1/conversations/{conversation}")
        assert deleted.status_code == 204, deleted.text
