"""Crons on two real app processes polling one database: each due time
fires exactly one run whichever process claims it, a process killed with
`kill -9` fires nothing twice, and a cron that fell due while every process
was down fires once when one comes back, not once per missed time."""

import signal
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conditions import until
from tests.langgraph_api.crons import all_advanced, fired, make_due, next_run_at
from tests.server import Server, one_user_on, running

DOMAIN = "crons.example.com"
# Both processes poll all the time, so they race for every due cron.
ENV = {
    "CRON_POLL_INTERVAL": "0.05",
    "CHAT_RUN_LEASE": "2",
    "CHAT_POLL_INTERVAL": "0.2",
    "SECRET_KEY": "crons-test-secret-key-of-enough-length",
}
EVERY_HOUR = "0 * * * *"


@pytest.fixture
async def servers(
    database_url: str, tmp_path: Path, engine: AsyncEngine
) -> AsyncIterator[tuple[Server, Server]]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with (
        running(database_url, tmp_path / "a", engine, DOMAIN, **ENV) as a,
        running(database_url, tmp_path / "b", engine, DOMAIN, **ENV) as b,
    ):
        yield a, b


@pytest.fixture
async def client(servers: tuple[Server, Server]) -> AsyncIterator[httpx.AsyncClient]:
    """A user's client (of the first process: crons fire wherever they are polled)."""
    async with one_user_on(*servers, DOMAIN) as (on_a, _):
        yield on_a


def _said(text: str) -> dict[str, object]:
    return {"messages": [{"role": "user", "content": text}]}


async def _fired_count(engine: AsyncEngine, cron_ids: list[str]) -> Counter[str]:
    return Counter({cron_id: len(await fired(engine, cron_id)) for cron_id in cron_ids})


async def test_each_due_time_fires_once_across_two_processes(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    made = [
        await client.post(
            "/langgraph/runs/crons",
            json={
                "assistant_id": "chat",
                "schedule": EVERY_HOUR,
                "input": _said(f"cron {i}"),
                "on_run_completed": "keep",
            },
        )
        for i in range(8)
    ]
    ids = [response.json()["cron_id"] for response in made]
    for round_ in range(1, 5):
        await make_due(engine, *ids)

        async def all_fired(expected: int = round_) -> bool:
            counts = await _fired_count(engine, ids)
            return await all_advanced(engine, *ids) and all(counts[i] >= expected for i in ids)

        await until(all_fired, f"round {round_} of the crons fired")
        # Exact: a late second firing of the round before would be counted here.
        assert await _fired_count(engine, ids) == Counter(dict.fromkeys(ids, round_))


async def test_a_killed_process_fires_nothing_twice_and_downtime_fires_once(
    servers: tuple[Server, Server], client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    a, b = servers
    thread = (await client.post("/langgraph/threads", json={})).json()["thread_id"]
    cron = (
        await client.post(
            f"/langgraph/threads/{thread}/runs/crons",
            json={"assistant_id": "chat", "schedule": EVERY_HOUR, "input": _said("tick")},
        )
    ).json()["cron_id"]

    async def fired_at_least(count: int) -> bool:
        return await all_advanced(engine, cron) and len(await fired(engine, cron)) >= count

    # Due while both poll, and one of them killed at once, mid-poll or not.
    await make_due(engine, cron)
    assert a.stop(signal.SIGKILL) == -signal.SIGKILL
    await until(lambda: fired_at_least(1), "the due time fired by the process left")
    await make_due(engine, cron)
    await until(lambda: fired_at_least(2), "the next due time fired")
    assert len(await fired(engine, cron)) == 2

    # Due for ten hours while no process was up: one run when one comes back.
    b.stop()
    await make_due(engine, cron, minutes_ago=600)
    await a.start()
    await until(lambda: fired_at_least(3), "the missed cron fired on start")
    due = await next_run_at(engine, cron)
    assert due is not None
    assert datetime.now(UTC) < due <= datetime.now(UTC) + timedelta(hours=1)
    await make_due(engine, cron)
    await until(lambda: fired_at_least(4), "the next due time fired")
    assert len(await fired(engine, cron)) == 4
