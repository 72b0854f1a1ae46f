"""Every backend of the app killed mid-conversation, three times, under load.

Each request either succeeds or answers a clear 503; afterwards every message
whose request succeeded is in the history exactly once, with its reply, whose
checkpoint exists.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import psycopg_conninfo
from tests.http_client import Caller

CONVERSATIONS = 20
KILLS = 3

_KILL_APP_BACKENDS = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""


async def _kill_every_backend(database_url: str) -> int:
    async with await psycopg.AsyncConnection.connect(
        psycopg_conninfo(database_url), autocommit=True
    ) as admin:
        row = await (await admin.execute(_KILL_APP_BACKENDS)).fetchone()
    return int(row[0]) if row else 0


async def test_chats_survive_killed_backends(
    app: FastAPI,
    make_caller: Callable[[], Awaitable[Caller]],
    database_url: str,
    engine: AsyncEngine,
) -> None:
    caller = await make_caller()
    conversations = [await caller.conversation() for _ in range(CONVERSATIONS)]
    outcomes: list[tuple[str, str, int, dict[str, Any]]] = []
    stop = asyncio.Event()
    progress = asyncio.Condition()

    async def chat(conversation: str) -> None:
        turn = 0
        while not stop.is_set():
            content = f"{conversation} turn {turn}"
            response = await caller.send(conversation, content)
            async with progress:
                outcomes.append((conversation, content, response.status_code, response.json()))
                progress.notify_all()
            turn += 1

    def served_since(mark: int) -> set[str]:
        return {conversation for conversation, _, status, _ in outcomes[mark:] if status == 200}

    async def every_conversation_served_since(mark: int) -> None:
        async with progress:
            await progress.wait_for(lambda: served_since(mark) == set(conversations))

    async def killer() -> list[int]:
        # Each kill lands while all conversations are chatting, and the next
        # waits until every one of them was served again: progress, not a clock.
        killed = []
        for _ in range(KILLS):
            await every_conversation_served_since(len(outcomes))
            killed.append(await _kill_every_backend(database_url))
        await every_conversation_served_since(len(outcomes))
        stop.set()
        return killed

    chats = [asyncio.create_task(chat(c)) for c in conversations]
    try:
        # A bound against a hang, far beyond any healthy run.
        async with asyncio.timeout(600):
            killed = await killer()
            await asyncio.gather(*chats)
    finally:
        stop.set()
        await asyncio.gather(*chats, return_exceptions=True)
        await caller.client.aclose()

    assert all(k > 0 for k in killed), killed
    statuses = Counter(status for _, _, status, _ in outcomes)
    assert set(statuses) <= {200, 503}, [body for _, _, status, body in outcomes if status not in {200, 503}][
        :3
    ]
    for _, _, status, body in outcomes:
        if status == 503:
            assert body["error"] == "DatabaseUnavailable"

    succeeded = [(c, content, body) for c, content, status, body in outcomes if status == 200]
    async with engine.connect() as conn:
        for conversation, content, body in succeeded:
            stored = (
                await conn.execute(
                    text(
                        "SELECT role, count(*) FILTER (WHERE content = :content) AS n FROM messages "
                        "WHERE run_id = :run GROUP BY role ORDER BY role"
                    ),
                    {"content": content, "run": body["run_id"]},
                )
            ).all()
            assert [(role, n) for role, n in stored] == [("assistant", 0), ("user", 1)], (content, stored)
            replies = (
                await conn.execute(
                    text("SELECT count(*) FROM messages WHERE run_id = :run AND role = 'assistant'"),
                    {"run": body["run_id"]},
                )
            ).scalar_one()
            assert replies == 1
            checkpoint = body["assistant_message"]["checkpoint_id"]
            found = (
                await conn.execute(
                    text("SELECT count(*) FROM checkpoints WHERE thread_id = :t AND checkpoint_id = :c"),
                    {"t": conversation, "c": checkpoint},
                )
            ).scalar_one()
            assert found == 1, (content, checkpoint)
            user_copies = (
                await conn.execute(
                    text("SELECT count(*) FROM messages WHERE conversation_id = :c AND content = :content"),
                    {"c": conversation, "content": content},
                )
            ).scalar_one()
            assert user_copies == 1, content
