"""W9: search over a million messages, and what the search index costs a write.

Seeded with COPY: 1,000 users, 1,000,000 messages; one of them has 10,000
(in 100 conversations), the others about 990 each. Words come from a
Zipf-like vocabulary, so some words are in most messages and some in very
few, as in people's chats. The searches are the route's own code path
(SearchService: the query, its rank, its snippets), for the user with 10,000
messages: one common word, a phrase, a rare word. The write cost is chat
turns through the routes with the search trigger and index against without
them, interleaved on the same database.
"""

import asyncio
import random
import time
import uuid
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.config import psycopg_conninfo
from app.services.search.query import parse_query
from app.services.search.repository import SEARCH_SQL, search_params
from app.services.search.service import SearchService
from benchmarks.workloads import TEXT, _client, median_ms, percentile_ms

USERS = 1000
HEAVY_MESSAGES = 10_000
HEAVY_CONVERSATIONS = 100
CONVERSATIONS_EACH = 10
VOCABULARY = 20_000
WORDS_A_MESSAGE = 14
# "memory" is in most messages (the worst case of one word), w20 in a few percent.
QUERIES = {
    "common word": "memory",
    "one word": "w20",
    "phrase": '"durable memory"',
    "rare word": "quetzal",
}
_COMMON = ["the", "a", "memory", "chat", "agent", "turn", "durable", "restart", "postgres", "thread"]


def _words(rng: random.Random) -> list[str]:
    """Zipf-like: a few words everywhere, most words rare."""
    ranks = [min(int(rng.paretovariate(0.9)), VOCABULARY) for _ in range(WORDS_A_MESSAGE)]
    return [_COMMON[r - 1] if r <= len(_COMMON) else f"w{r}" for r in ranks]


def _content(rng: random.Random, n: int) -> str:
    words = _words(rng)
    if n % 97 == 0:
        words[3:3] = ["durable", "memory"]
    if n % 10_007 == 0:
        words.append("quetzal")
    return " ".join(words)


async def seed(database_url: str, messages: int) -> uuid.UUID:
    """The users, conversations and `messages` messages, by COPY; the heavy user's id.
    The GIN index is built after the rows, as a backfill would."""
    rng = random.Random(20261203)  # noqa: S311 - reproducible text, not secrets
    users = [uuid.uuid4() for _ in range(USERS)]
    heavy = users[0]
    owned = {
        u: [uuid.uuid4() for _ in range(HEAVY_CONVERSATIONS if u == heavy else CONVERSATIONS_EACH)]
        for u in users
    }
    light = [c for u in users[1:] for c in owned[u]]
    async with await psycopg.AsyncConnection.connect(psycopg_conninfo(database_url)) as conn:
        await conn.execute("DROP INDEX IF EXISTS ix_messages_search_vector")
        async with conn.cursor() as cur:
            async with cur.copy("COPY users (id, email, hashed_password) FROM STDIN") as copy:
                for u in users:
                    await copy.write_row((u, f"w9-{u.hex}@example.com", "-"))
            async with cur.copy("COPY conversations (id, user_id, title) FROM STDIN") as copy:
                for u, conversations in owned.items():
                    for i, c in enumerate(conversations):
                        await copy.write_row((c, u, f"conversation {i} about {' '.join(_words(rng)[:3])}"))
            async with cur.copy("COPY messages (conversation_id, role, content) FROM STDIN") as copy:
                for n in range(messages):
                    if n < HEAVY_MESSAGES:
                        conversation = owned[heavy][n % HEAVY_CONVERSATIONS]
                    else:
                        conversation = light[n % len(light)]
                    await copy.write_row((conversation, "user" if n % 2 else "assistant", _content(rng, n)))
        await conn.execute("CREATE INDEX ix_messages_search_vector ON messages USING gin (search_vector)")
        await conn.execute("ANALYZE users, conversations, messages")
        await conn.commit()
    return heavy


def _plan_summary(plan: dict[str, Any]) -> list[str]:
    """The plan's scans, each with the index it reads: what tests/db/test_query_plans.py checks."""
    found = []
    if "Scan" in plan["Node Type"]:
        found.append(
            " ".join(filter(None, [plan["Node Type"], plan.get("Index Name"), plan.get("Relation Name")]))
        )
    for child in plan.get("Plans", []):
        found.extend(_plan_summary(child))
    return found


async def w9_search(engine: AsyncEngine, database_url: str, messages: int, repeat: int) -> dict[str, Any]:
    heavy = await seed(database_url, messages)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    results: dict[str, Any] = {"messages": messages, "users": USERS, "user_messages": HEAVY_MESSAGES}
    async with sessions() as s:
        service = SearchService(s, heavy, "bench-secret")
        for name, q in QUERIES.items():
            page = await service.search(q, "false", 20, None)  # warm
            samples = []
            for _ in range(repeat):
                start = time.perf_counter()
                await service.search(q, "false", 20, None)
                samples.append(time.perf_counter() - start)
            explained = await s.execute(
                text(f"EXPLAIN (FORMAT JSON) {SEARCH_SQL}"),
                search_params(heavy, parse_query(q), "false", 21, None, language="simple"),
            )
            results[name] = {
                "p50_ms": median_ms(samples),
                "p95_ms": percentile_ms(samples, 0.95),
                "hits_on_first_page": len(page.items),
                "plan": _plan_summary(explained.scalar_one()[0]["Plan"]),
            }
    return results


async def _turns(database_url: str, conversations: int, turns: int) -> float:
    """JSON chat turns through the routes, `conversations` at once: turns/s."""
    lifespan, client, _ = await _client(database_url)
    try:
        made = [
            (await client.post("/api/v1/conversations", json={})).json()["id"] for _ in range(conversations)
        ]

        async def converse(conversation: str) -> None:
            for _ in range(turns):
                sent = await client.post(
                    f"/api/v1/conversations/{conversation}/messages", json={"content": TEXT}
                )
                sent.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(converse(c) for c in made))
        return conversations * turns / (time.perf_counter() - start)
    finally:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


async def _search_writes(database_url: str, on: bool) -> None:
    """The search trigger and index on, or off (as before migration 0011)."""
    async with await psycopg.AsyncConnection.connect(psycopg_conninfo(database_url), autocommit=True) as conn:
        if on:
            await conn.execute("ALTER TABLE messages ENABLE TRIGGER messages_search_vector")
            await conn.execute(
                "CREATE INDEX IF NOT EXISTS ix_messages_search_vector ON messages USING gin (search_vector)"
            )
        else:
            await conn.execute("ALTER TABLE messages DISABLE TRIGGER messages_search_vector")
            await conn.execute("DROP INDEX IF EXISTS ix_messages_search_vector")


async def w9_write_cost(database_url: str, conversations: int, turns: int, rounds: int) -> dict[str, float]:
    """Turns/s with search indexing and without, interleaved round by round; medians."""
    samples: dict[bool, list[float]] = {True: [], False: []}
    try:
        for round_ in range(rounds):
            for on in (True, False) if round_ % 2 == 0 else (False, True):
                await _search_writes(database_url, on)
                samples[on].append(await _turns(database_url, conversations, turns))
    finally:
        await _search_writes(database_url, True)
    with_index, without = (sorted(samples[on])[len(samples[on]) // 2] for on in (True, False))
    return {
        "turns_per_s_with": with_index,
        "turns_per_s_without": without,
        "cost_pct": (1 - with_index / without) * 100,
    }
