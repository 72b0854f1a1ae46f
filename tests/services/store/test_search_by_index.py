"""Search by meaning through the HNSW index, for a user with many items.

A user with at least `EXACT_UP_TO` matching items (lowered here, so that a
test's thousand items count as many) is searched through the index (an
iterative scan that skips everyone else's vectors), re-ranked exactly; one
with few, or a scan that comes back short, is ranked exactly.
Both give the same answer. The vectors are made here, not by a model, so
which items are nearest is known.
"""

import random
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from langgraph.store.base import PutOp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import StoreSettings
from app.services.persistence import MessageCheckpointer
from app.services.store import AppStore, UserStore, repository
from app.services.store.filters import filter_sql
from tests.conditions import until
from tests.factories import new_user

NAMESPACE = ("notes",)
MANY = 1100
NEAR = 12


@pytest.fixture(autouse=True)
def many_is_a_thousand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repository, "EXACT_UP_TO", MANY - 100)


@pytest.fixture
async def app_store(checkpointer: MessageCheckpointer) -> AsyncIterator[AppStore]:
    assert checkpointer.pool is not None
    store = AppStore(checkpointer.pool, StoreSettings())
    await store.open()
    if not store.indexed:
        await store.close()
        pytest.skip("the server has no pgvector: the store ranks by recency (tests/services/store)")
    yield store
    await store.close()


Fill = Callable[[int, int], Awaitable[UserStore]]


@pytest.fixture
def filled(app_store: AppStore, committed: async_sessionmaker[AsyncSession]) -> Fill:
    """A new user with `items` notes: the first `NEAR` close to `query`, the rest
    random; each item with `fields` vectors."""

    async def fill(items: int, fields: int) -> UserStore:
        async with committed() as s:
            user = new_user()
            s.add(user)
            await s.commit()
        store = app_store.for_user(user.id)
        ops = [
            PutOp(NAMESPACE, f"n{n:05d}", {"n": n, "kind": "near" if n < NEAR else "far"}, index=False)
            for n in range(items)
        ]
        await store.abatch(ops)
        rng = random.Random(items * 10 + fields)  # noqa: S311 - test data
        prefix = repository.prefix_text((store.owner, *NAMESPACE))
        rows = [
            (
                prefix,
                f"n{n:05d}",
                f"f{field}",
                _near(rng, n, app_store.dims) if n < NEAR else _random(rng, app_store.dims),
            )
            for n in range(items)
            for field in range(fields)
        ]
        keys = [(prefix, key) for prefix, key, *_ in rows]
        await repository.put(app_store.pool, [], repository.Vectors(keys, rows))
        return store

    return fill


def query(dims: int) -> list[float]:
    return [1.0] + [0.0] * (dims - 1)


def _near(rng: random.Random, n: int, dims: int) -> list[float]:
    """Closer to the query the smaller `n`: distinct scores, a known order."""
    return [1.0, 0.02 * (n + 1) + 0.001 * rng.random(), *([0.0] * (dims - 2))]


def _random(rng: random.Random, dims: int) -> list[float]:
    return [rng.gauss(0.0, 1.0) for _ in range(dims)]


def _query(store: UserStore, offset: int = 0, **where: object) -> repository.Query:
    return repository.Query(
        (store.owner, *NAMESPACE), filter_sql(where or None), 10, offset, False, query(store.store.dims)
    )


async def _search(store: UserStore, indexed: bool, offset: int = 0, **where: object) -> list[str]:
    rows = await repository.search(store.store.pool, _query(store, offset, **where), indexed=indexed)
    return [row.key for row in rows]


async def _index_scans(store: AppStore) -> int:
    async with store.pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT coalesce(sum(idx_scan), 0) AS n FROM pg_stat_user_indexes"
                " WHERE indexrelname = 'store_vectors_embedding_idx'"
            )
        ).fetchone()
    return int(row["n"]) if row else 0


async def test_a_user_with_many_items_is_searched_through_the_index(
    filled: Fill, app_store: AppStore
) -> None:
    heavy = await filled(MANY, 1)
    # Another user's exact copies of the query are nearer than anything of heavy's.
    other = await filled(NEAR, 1)
    await repository.put(
        app_store.pool,
        [],
        repository.Vectors(
            [(repository.prefix_text((other.owner, *NAMESPACE)), f"n{n:05d}") for n in range(NEAR)],
            [
                (repository.prefix_text((other.owner, *NAMESPACE)), f"n{n:05d}", "f0", query(app_store.dims))
                for n in range(NEAR)
            ],
        ),
    )
    async with app_store.pool.connection() as conn:
        assert (await repository.matching(conn, _query(heavy))).many
        assert not (await repository.matching(conn, _query(other))).many

    scans = await _index_scans(app_store)
    async with app_store.pool.connection() as conn:
        by_index = await repository.through_index(conn, _query(heavy))
    assert by_index is not None
    assert [row.key for row in by_index] == [f"n{n:05d}" for n in range(10)]
    await until(lambda: _more_scans(app_store, scans), "the search read the HNSW index")
    assert await _search(heavy, indexed=True) == await _search(heavy, indexed=False)


async def _more_scans(store: AppStore, before: int) -> bool:
    return await _index_scans(store) > before


async def test_a_narrow_filter_is_ranked_exactly_and_gives_what_matches(filled: Fill) -> None:
    heavy = await filled(MANY, 1)
    async with heavy.store.pool.connection() as conn:
        assert not (await repository.matching(conn, _query(heavy, n={"$gte": MANY - 5}))).many
    found = await _search(heavy, indexed=True, n={"$gte": MANY - 5})
    assert sorted(found) == [f"n{n:05d}" for n in range(MANY - 5, MANY)]


async def test_items_with_many_vectors_still_give_limit(filled: Fill) -> None:
    # Each near item has five vectors near the query: the index's first
    # candidates are a few items many times over, short of ten; the search
    # then ranks exactly.
    heavy = await filled(MANY, 5)
    async with heavy.store.pool.connection() as conn:
        assert await repository.through_index(conn, _query(heavy)) is None
    assert await _search(heavy, indexed=True) == [f"n{n:05d}" for n in range(10)]
    # The next page lies past the first candidates' items: it is still there.
    second = await _search(heavy, indexed=True, offset=10)
    assert second[:2] == [f"n{n:05d}" for n in range(10, NEAR)]
    assert len(second) == 10


async def test_expired_items_among_the_nearest_are_passed_over(filled: Fill, app_store: AppStore) -> None:
    # Ranked among the user's vectors, their items' TTL checked after: the
    # 35 nearest have expired (not yet swept), more than the first candidates.
    user = await filled(40, 1)
    prefix = repository.prefix_text((user.owner, *NAMESPACE))
    nearest = [(prefix, f"n{n:05d}") for n in range(35)]
    await repository.put(
        app_store.pool,
        [],
        repository.Vectors(nearest, [(p, key, "f0", query(app_store.dims)) for p, key in nearest]),
    )
    async with app_store.pool.connection() as conn:
        await conn.execute(
            "UPDATE store SET expires_at = now() - interval '1 minute' WHERE prefix = %s AND key < 'n00035'",
            [prefix],
        )
    assert sorted(await _search(user, indexed=False)) == [f"n{n:05d}" for n in range(35, 40)]
    # Of the 35 alike, the seven newest unexpired: wherever they are among
    # the first candidates, the page is still full.
    async with app_store.pool.connection() as conn:
        await conn.execute(
            "UPDATE store SET expires_at = NULL WHERE prefix = %s AND key >= 'n00028'", [prefix]
        )
    found = await _search(user, indexed=False)
    assert found[:7] == [f"n{n:05d}" for n in range(28, 35)]
    assert len(found) == 10
