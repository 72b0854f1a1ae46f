"""W10: long-term memory at scale, ours against the stock store on the same rows.

Seeded with COPY: BENCH_W10_ITEMS items (default 1,000,000, the issue's)
across BENCH_W10_USERS users (default 10,000), one of whom has
BENCH_W10_HEAVY (default 10,000), spread among everyone's rows; every item
embedded with the bundled model (256 dimensions), the HNSW index built
after the rows. Both stores read the same tables: ours (`UserStore`: the
user's items ranked exactly, or through the index for a large share) and
the stock `AsyncPostgresStore` with its index configuration (an ANN scan
over everyone's vectors, then the namespace filter). For the heavy user:
puts/s, search with a query, with a filter, and both (p50/p95), result
counts, the plans, and recall at k=10 against the exact top 10 computed
here from the user's vectors. Needs pgvector. Run alone (its table, and
the JSON in benchmarks/results/w10.json): `python -m benchmarks.w10_memory`;
`--again` measures the database the last run seeded, without seeding it.
"""

import asyncio
import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from langgraph.store.base import SearchItem, SearchOp
from langgraph.store.postgres import AsyncPostgresStore
from langgraph.store.postgres.base import PLACEHOLDER
from sqlalchemy.engine import make_url

from app.config import PersistenceConfig, StoreSettings, psycopg_conninfo
from app.services.persistence.pool import build_pool
from app.services.store import AppStore
from app.services.store.embeddings import LocalEmbeddings
from app.services.store.filters import filter_sql
from app.services.store.migrations import EMBEDDING_DIMS, VECTOR_MIGRATIONS_V2
from app.services.store.repository import (
    APPROXIMATE_SETTINGS,
    CANDIDATES_PER_RESULT,
    Pool,
    Query,
    matching,
    search_statement,
    through_index,
    vector_text,
)
from benchmarks.database import DATABASE, fresh_database, server_url
from benchmarks.report import w10_table
from benchmarks.w9_search import _plan_summary
from benchmarks.workloads import median_ms, percentile_ms

ITEMS = int(os.environ.get("BENCH_W10_ITEMS", "1000000"))
USERS = int(os.environ.get("BENCH_W10_USERS", "10000"))
HEAVY = int(os.environ.get("BENCH_W10_HEAVY", "10000"))
REPEAT = int(os.environ.get("BENCH_W10_REPEAT", "30"))
PUTS = 200
RESULTS = Path(__file__).parent / "results"
K = 10
NAMESPACE = "memories"
KINDS = ("work", "home", "health", "travel", "food")
_TOPICS = (
    "coffee", "tea", "hiking", "python", "postgres", "cats", "dogs", "jazz", "piano", "paris",
    "tokyo", "running", "swimming", "gardening", "tomatoes", "chess", "novels", "poetry", "cycling",
    "sushi", "pasta", "yoga", "sleep", "allergies", "meetings", "deadlines", "taxes", "movies",
)  # fmt: skip
_VERBS = ("likes", "dislikes", "asked about", "plans", "mentioned", "is learning", "worries about")
# People, places and times, so that memories differ as people's do: a
# handful of sentences repeated a million times would make near-identical
# vectors, which no vector index ranks well (and no memory store holds).
_PEOPLE = (
    "Anna", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jun", "Kofi", "Lena",
    "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tomas", "Uma", "Vera", "Wei", "Yara",
    "her sister", "his brother", "a colleague", "the neighbours", "their son", "an old friend",
)  # fmt: skip
_PLACES = (
    "Berlin", "Lisbon", "Nairobi", "Osaka", "Lima", "Oslo", "Cairo", "Seoul", "Dublin", "Quito",
    "Hanoi", "Madrid", "Perth", "Austin", "Krakow", "Accra", "Bergen", "Porto", "Delhi", "Tallinn",
    "the office", "the garden", "the gym", "the library", "the lake house", "a small cafe",
)  # fmt: skip
_WHEN = (
    "every morning", "on weekends", "after work", "in winter", "in summer", "on Mondays",
    "since {year}", "in {month} {year}", "before {month}", "twice a week", "most evenings",
)  # fmt: skip
_MONTHS = ("January", "March", "May", "July", "September", "November")
QUERIES = (
    "what drinks does the user like",
    "outdoor sports",
    "travel plans in Asia",
    "music the user plays",
    "food preferences",
    "health problems",
    "work deadlines",
    "pets at home",
)


def _text(rng: random.Random) -> str:
    a, b = rng.sample(_TOPICS, 2)
    when = rng.choice(_WHEN).format(year=rng.randrange(1990, 2027), month=rng.choice(_MONTHS))
    return (
        f"the user {rng.choice(_VERBS)} {a} and {rng.choice(_VERBS)} {b}"
        f" with {rng.choice(_PEOPLE)} in {rng.choice(_PLACES)} {when}"
    )


async def seed(database_url: str, model: LocalEmbeddings) -> str:
    """Users, items and their vectors by COPY, the HNSW index after; the heavy user's id."""
    rng = random.Random(20261205)  # noqa: S311 - reproducible text, not secrets
    users = [str(uuid.uuid4()) for _ in range(USERS)]
    heavy = users[0]
    now = datetime.now(UTC)
    async with await psycopg.AsyncConnection.connect(psycopg_conninfo(database_url)) as conn:
        await conn.execute("DROP INDEX IF EXISTS store_vectors_embedding_idx")
        async with conn.cursor() as cur:
            async with cur.copy("COPY users (id, email, hashed_password) FROM STDIN") as copy:
                for u in users:
                    await copy.write_row((u, f"w10-{u}@example.com", "-"))
            # The heavy user's items one in every `step`, among everyone's: a
            # user's memories, written over months, lie scattered in the table.
            step = max(ITEMS // max(HEAVY, 1), 1)
            chunk = 20_000
            for start in range(0, ITEMS, chunk):
                rows: list[tuple[str, str, dict[str, Any]]] = []
                texts: list[str] = []
                for n in range(start, min(start + chunk, ITEMS)):
                    owner = heavy if n % step == 0 else users[1 + n % max(USERS - 1, 1)]
                    texts.append(_text(rng))
                    value = {"text": texts[-1], "kind": rng.choice(KINDS), "n": n}
                    rows.append((f"{owner}.{NAMESPACE}", f"m{n}", value))
                vectors = await asyncio.to_thread(model.embed_documents, texts)
                async with cur.copy(
                    "COPY store (prefix, key, value, created_at, updated_at) FROM STDIN"
                ) as copy:
                    for prefix, key, value in rows:
                        await copy.write_row((prefix, key, json.dumps(value), now, now))
                async with cur.copy(
                    "COPY store_vectors (prefix, key, field_name, embedding) FROM STDIN"
                ) as copy:
                    for (prefix, key, _), vector in zip(rows, vectors, strict=True):
                        await copy.write_row((prefix, key, "text", vector_text(vector)))
                print(f"W10 seeded {min(start + chunk, ITEMS):,} items", file=sys.stderr)
        await conn.commit()
        await conn.execute("SET maintenance_work_mem = '4GB'")
        await conn.execute(VECTOR_MIGRATIONS_V2[-1])
        await conn.execute("ANALYZE users, store, store_vectors")
        await conn.commit()
    return heavy


async def _timed(call: Any) -> tuple[list[float], Any]:
    result = await call()  # warm
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return samples, result


Exact = dict[tuple[str, str | None], dict[str, float]]


async def _exact(pool: Pool, heavy: str, model: LocalEmbeddings) -> Exact:
    """Each query's (and with the `work` filter) cosine similarity to each of
    the user's items, computed here from their vectors, not by the database."""
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                "SELECT s.key, s.value->>'kind' AS kind, sv.embedding::text AS e FROM store s"
                " JOIN store_vectors sv USING (prefix, key) WHERE s.prefix = %s",
                [f"{heavy}.{NAMESPACE}"],
            )
        ).fetchall()
    items = [(r["key"], r["kind"], json.loads(r["e"])) for r in rows]
    norms = [math.sqrt(sum(x * x for x in e)) or 1.0 for *_, e in items]
    found: Exact = {}
    for q in QUERIES:
        v = model.embed_query(q)
        vn = math.sqrt(sum(x * x for x in v)) or 1.0
        scores = {
            key: sum(a * b for a, b in zip(v, e, strict=True)) / (vn * n)
            for (key, _, e), n in zip(items, norms, strict=True)
        }
        found[(q, None)] = scores
        found[(q, "work")] = {key: scores[key] for key, kind, _ in items if kind == "work"}
    return found


def _recall(found: list[SearchItem], scores: dict[str, float]) -> float:
    """The share of the exact top K found: an item tied with the K-th best
    counts (many memories say the same thing, and ties may come in any order)."""
    kth = sorted(scores.values(), reverse=True)[:K][-1]
    hits = sum(1 for item in found if scores.get(item.key, -2.0) >= kth - 1e-6)
    return min(hits, K) / min(K, len(scores))


async def _explain(pool: Pool, sql: str, params: list[Any], settings: str | None = None) -> list[str]:
    async with pool.connection() as conn, conn.transaction():
        if settings:
            await conn.execute(settings)
        row = await (await conn.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)).fetchone()
    assert row is not None
    return _plan_summary(row["QUERY PLAN"][0]["Plan"])


async def _our_plan(pool: Pool, query: Query) -> list[str]:
    """The plan of the statement our search runs first: by the index where it reads it."""
    if query.near is None:
        return await _explain(pool, *search_statement(query))
    async with pool.connection() as conn:
        indexed = (await matching(conn, query)).many
    statement = search_statement(query, CANDIDATES_PER_RESULT * K, approximate=indexed)
    return await _explain(pool, *statement, APPROXIMATE_SETTINGS if indexed else None)


async def _by_index(pool: Pool, heavy: str, given: dict[str, Any] | None, model: LocalEmbeddings) -> float:
    """The share of the queries the index answered (the rest were ranked exactly)."""
    answered = 0
    for q in QUERIES:
        query = Query((heavy, NAMESPACE), filter_sql(given), K, 0, False, model.embed_query(q))
        async with pool.connection() as conn:
            answered += await through_index(conn, query) is not None
    return answered / len(QUERIES)


Search = Callable[[str | None, dict[str, Any] | None], Awaitable[list[SearchItem]]]


async def _measure(
    search: Search,
    with_query: bool,
    given: dict[str, Any] | None,
    exact: Exact,
) -> dict[str, Any]:
    """p50/p95 over every query (the first only, without one), result counts, recall at K."""
    recalls, counts, samples = [], [], []
    for q in QUERIES if with_query else QUERIES[:1]:
        query = q if with_query else None
        timed, found = await _timed(lambda query=query: search(query, given))
        samples += timed
        counts.append(len(found))
        if with_query:
            recalls.append(_recall(found, exact[(q, "work" if given else None)]))
    return {
        "p50_ms": median_ms(samples),
        "p95_ms": percentile_ms(samples, 0.95),
        "results_min": min(counts),
        "results_mean": sum(counts) / len(counts),
        "recall_at_k": sum(recalls) / len(recalls) if recalls else None,
    }


Put = Callable[[str, dict[str, Any]], Awaitable[None]]


async def _puts_per_s(puts: dict[str, Put]) -> dict[str, float]:
    """Each store's puts/s, one at a time: a round of PUTS new items each, in
    turn, three times after a round unmeasured (the first puts into a new
    namespace pay for what the later ones find warm); the median round."""
    rates: dict[str, list[float]] = {name: [] for name in puts}
    for round_ in range(4):
        for name, put in puts.items():
            start = time.perf_counter()
            for n in range(PUTS):
                topic = _TOPICS[n % len(_TOPICS)]
                await put(
                    f"r{round_}p{n}", {"text": f"the user mentioned item {n} about {topic}", "kind": "work"}
                )
            if round_:
                rates[name].append(PUTS / (time.perf_counter() - start))
    return {name: statistics.median(found) for name, found in rates.items()}


async def w10_memory(database_url: str) -> dict[str, Any]:
    model = await asyncio.to_thread(LocalEmbeddings)
    started = time.perf_counter()
    heavy = await seed(database_url, model)
    return await measure(database_url, heavy, model, time.perf_counter() - started)


async def measure(database_url: str, heavy: str, model: LocalEmbeddings, seed_s: float) -> dict[str, Any]:
    """Both stores on the seeded rows, for the heavy user."""
    results: dict[str, Any] = {
        "items": ITEMS, "users": USERS, "user_items": HEAVY, "k": K, "seed_s": seed_s,
    }  # fmt: skip
    pool = build_pool(psycopg_conninfo(database_url), PersistenceConfig())
    await pool.open()
    ours_store = AppStore(pool, StoreSettings(refresh_on_read=False))
    await ours_store.open()
    stock = AsyncPostgresStore(pool, index={"dims": EMBEDDING_DIMS, "embed": model, "fields": ["text"]})
    try:
        ours = ours_store.for_user(heavy)
        exact = await _exact(pool, heavy, model)
        shapes = {
            "query": (True, None),
            "filter": (False, {"kind": "work"}),
            "both": (True, {"kind": "work"}),
        }
        searches: dict[str, Search] = {
            "ours": lambda query, given: ours.asearch((NAMESPACE,), query=query, filter=given, limit=K),
            "stock": lambda query, given: stock.asearch(
                (heavy, NAMESPACE), query=query, filter=given, limit=K
            ),
        }
        for shape, (with_query, given) in shapes.items():
            row = {
                name: await _measure(search, with_query, given, exact) for name, search in searches.items()
            }
            near = model.embed_query(QUERIES[0]) if with_query else None
            row["ours"]["plan"] = await _our_plan(
                pool, Query((heavy, NAMESPACE), filter_sql(given), K, 0, False, near)
            )
            if with_query:
                row["ours"]["by_index"] = await _by_index(pool, heavy, given, model)
            op = SearchOp((heavy, NAMESPACE), given, K, 0, QUERIES[0] if with_query else None)
            [(stock_sql, stock_params)], _ = stock._prepare_batch_search_queries([(0, op)])
            # The stock store fills its query's vector in where it left a placeholder.
            filled = [vector_text(near) if p is PLACEHOLDER and near else p for p in stock_params]
            row["stock"]["plan"] = await _explain(pool, stock_sql, filled)
            results[shape] = row
        results["puts_per_s"] = await _puts_per_s(
            {
                "ours": lambda key, value: ours.aput(("puts",), key, value, index=["text"]),
                "stock": lambda key, value: stock.aput((heavy, "stock-puts"), key, value),
            }
        )
    finally:
        await ours_store.close()
        await pool.close()
    return results


async def _again(database_url: str) -> dict[str, Any]:
    """Measure the database an earlier run seeded (the seed takes a quarter
    of an hour); its heavy user is the one with the most items."""
    async with await psycopg.AsyncConnection.connect(psycopg_conninfo(database_url)) as conn:
        row = await (
            await conn.execute("SELECT user_id FROM store GROUP BY user_id ORDER BY count(*) DESC LIMIT 1")
        ).fetchone()
    if row is None:
        raise SystemExit("W10: nothing seeded to measure again; run without --again first")
    model = await asyncio.to_thread(LocalEmbeddings)
    return await measure(database_url, str(row[0]), model, seed_s=0.0)


async def _alone(again: bool) -> dict[str, Any]:
    if again:
        url = make_url(server_url()).set(database=DATABASE).render_as_string(hide_password=False)
        return await _again(url)
    return await w10_memory(await fresh_database(server_url()))


if __name__ == "__main__":
    found = asyncio.run(_alone("--again" in sys.argv[1:]))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "w10.json").write_text(json.dumps(found, indent=2))
    print(w10_table(found))
