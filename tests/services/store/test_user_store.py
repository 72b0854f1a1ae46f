"""The per-user store on real PostgreSQL: isolation, filters, TTL, bad input."""

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from langgraph.store.base import GetOp, Op, PutOp, SearchOp
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import StoreSettings
from app.services.persistence import MessageCheckpointer
from app.services.retention import RetentionSweeper
from app.services.store import AppStore, InvalidStoreInput, UserStore
from tests.conditions import until
from tests.factories import new_user
from tests.services.store.conftest import MakeStore


@pytest.fixture
async def app_store(checkpointer: MessageCheckpointer) -> AsyncIterator[AppStore]:
    assert checkpointer.pool is not None
    store = AppStore(checkpointer.pool, StoreSettings(max_value_bytes=4096, max_namespace_depth=4))
    await store.open()
    yield store
    await store.close()


class TestIsolation:
    async def test_another_user_never_reads_lists_searches_or_deletes_an_item(
        self, user_store: MakeStore
    ) -> None:
        alice, bob = await user_store(), await user_store()
        puts_before = REGISTRY.get_sample_value("surfsense_store_operations_total", {"operation": "put"}) or 0
        await alice.aput(("memories",), "colour", {"text": "likes green"})
        puts = REGISTRY.get_sample_value("surfsense_store_operations_total", {"operation": "put"})
        assert puts == puts_before + 1

        assert await bob.aget(("memories",), "colour") is None
        assert await bob.asearch(("memories",)) == []
        assert await bob.asearch(()) == []
        assert await bob.alist_namespaces() == []
        await bob.adelete(("memories",), "colour")
        item = await alice.aget(("memories",), "colour")
        assert item is not None
        assert item.value == {"text": "likes green"}
        assert item.namespace == ("memories",)
        assert await alice.alist_namespaces() == [("memories",)]

    async def test_namespace_tricks_stay_inside_the_callers_own(self, user_store: MakeStore) -> None:
        alice, bob = await user_store(), await user_store()
        await alice.aput(("memories",), "k", {"secret": 1})
        # Bob names Alice's id as a label, uses LIKE and regex wildcards, and
        # the separator (refused): each stays within Bob's namespaces.
        await bob.aput((alice.owner, "memories"), "k", {"secret": 2})
        assert (await alice.aget(("memories",), "k")).value == {"secret": 1}  # type: ignore[union-attr]
        for prefix in [(alice.owner,), ("%",), ("_emories",), ("*",)]:
            found = await bob.asearch(prefix)
            assert all(item.value == {"secret": 2} for item in found), prefix
        assert await bob.alist_namespaces(prefix=("*",)) == [(alice.owner, "memories")]
        assert await bob.alist_namespaces(suffix=("memories",)) == [(alice.owner, "memories")]
        with pytest.raises(InvalidStoreInput, match="period"):
            await bob.abatch([GetOp((f"{alice.owner}.memories",), "k")])
        assert await alice.alist_namespaces() == [("memories",)]


class TestFilters:
    async def test_numbers_compare_as_numbers_and_strings_as_strings(self, user_store: MakeStore) -> None:
        store = await user_store()
        for key, value in {"nine": 9, "ten": 10, "text": "10", "hundred": 100.5}.items():
            await store.aput(("scores",), key, {"score": value})

        async def keys(**filter_: object) -> set[str]:
            return {item.key for item in await store.asearch(("scores",), filter=filter_)}

        assert await keys(score={"$gt": 9}) == {"ten", "hundred"}
        assert await keys(score={"$gte": 9, "$lt": 100}) == {"nine", "ten"}
        assert await keys(score={"$lte": 10.0}) == {"nine", "ten"}
        assert await keys(score={"$gt": "1"}) == {"text"}
        assert await keys(score={"$eq": 10}) == {"ten"}
        assert await keys(score=10) == {"ten"}
        assert await keys(score={"$ne": 10}) == {"nine", "text", "hundred"}
        assert await keys(score={"$in": [9, "10"]}) == {"nine", "text"}

    async def test_nested_keys(self, user_store: MakeStore) -> None:
        store = await user_store()
        await store.aput(("people",), "a", {"profile": {"age": 30, "city": "Oslo"}})
        await store.aput(("people",), "b", {"profile": {"age": 8, "city": "Bergen"}})
        found = await store.asearch(("people",), filter={"profile.age": {"$gt": 10}})
        assert [item.key for item in found] == ["a"]
        found = await store.asearch(("people",), filter={"profile.city": "Bergen"})
        assert [item.key for item in found] == ["b"]

    @pytest.mark.parametrize(
        ("filter_", "cause"),
        [
            ({"score": {"$regex": "x"}}, "operator"),
            ({"score": {"$gt": True}}, "number or a string"),
            ({"score": {"$gt": [1]}}, "number or a string"),
            ({"score": {"$in": 3}}, "list"),
            ({"a..b": 1}, "empty part"),
            ({"a": "x\x00"}, "NUL"),
        ],
    )
    async def test_a_bad_filter_is_refused_with_its_cause(
        self, user_store: MakeStore, filter_: dict[str, object], cause: str
    ) -> None:
        store = await user_store()
        with pytest.raises(InvalidStoreInput, match=cause):
            await store.asearch(("scores",), filter=filter_)


class TestBadInput:
    @pytest.mark.parametrize(
        ("namespace", "key", "value", "cause"),
        [
            (("a\x00",), "k", {}, "NUL"),
            (("a",), "k\ud800", {}, "surrogate"),
            (("a",), "k", {"t": "\ud800"}, "surrogate"),
            (("a",), "k", {"t\x00": 1}, "NUL"),
            (("",), "k", {}, "empty"),
            (("a.b",), "k", {}, "period"),
            (("a", "b", "c", "d", "e"), "k", {}, "at most 4"),
            (("a",), "k", {"t": "x" * 5000}, "at most 4096"),
            (("a",), "k", {"n": float("nan")}, "nan"),
            ((), "k", {}, "at least one"),
        ],
    )
    async def test_refused_and_nothing_stored(
        self,
        user_store: MakeStore,
        namespace: tuple[str, ...],
        key: str,
        value: dict[str, object],
        cause: str,
    ) -> None:
        store = await user_store()
        with pytest.raises(InvalidStoreInput, match=cause):
            # A good put in the same batch is not stored either.
            await store.abatch([PutOp(("ok",), "k", {"v": 1}), PutOp(namespace, key, value)])
        assert await store.asearch(()) == []

    @pytest.mark.parametrize(
        ("op", "cause"),
        [
            (PutOp(("a",), "k", {"t": 1}, index=["t\x00"]), "NUL"),
            (PutOp(("a",), "k", {"t": 1}, index=[""]), "empty"),
            (PutOp(("a",), "k", {"t": 1}, index=[]), "non-empty list"),
            (SearchOp(("a",), None, 10, 0, "tea\ud800"), "surrogate"),
        ],
    )
    async def test_a_bad_index_or_query_is_refused(self, user_store: MakeStore, op: Op, cause: str) -> None:
        store = await user_store()
        with pytest.raises(InvalidStoreInput, match=cause):
            await store.abatch([op])

    @pytest.mark.parametrize(("limit", "offset"), [(0, 0), (1001, 0), (10, -1), (True, 0)])
    async def test_bounds_out_of_range(self, user_store: MakeStore, limit: int, offset: int) -> None:
        store = await user_store()
        with pytest.raises(InvalidStoreInput, match=r"limit|offset"):
            await store.asearch(("a",), limit=limit, offset=offset)
        with pytest.raises(InvalidStoreInput, match=r"limit|offset"):
            await store.alist_namespaces(limit=limit, offset=offset)


class TestTTL:
    async def test_an_expired_item_is_never_returned_and_the_retention_sweep_deletes_it(
        self,
        user_store: MakeStore,
        app_store: AppStore,
        checkpointer: MessageCheckpointer,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        store = await user_store()
        await store.aput(("notes",), "brief", {"t": 1}, ttl=0.01)
        await store.aput(("notes",), "kept", {"t": 2})

        async def expired() -> bool:
            return await store.aget(("notes",), "brief", refresh_ttl=False) is None

        await until(expired, "the item with a ttl of 0.6 s expired")
        assert [item.key for item in await store.asearch(("notes",), refresh_ttl=False)] == ["kept"]
        assert await store.alist_namespaces() == [("notes",)]

        async with app_store.pool.connection() as conn:
            row = await (await conn.execute("SELECT count(*) AS n FROM store WHERE key = 'brief'")).fetchone()
        assert row == {"n": 1}  # expired, not yet swept
        expired_before = REGISTRY.get_sample_value("surfsense_store_items_expired_total") or 0
        report = await RetentionSweeper(checkpointer, committed).sweep_once()
        assert report is not None
        assert report.store_items_expired >= 1
        assert REGISTRY.get_sample_value("surfsense_store_items_expired_total") == (
            expired_before + report.store_items_expired
        )
        async with app_store.pool.connection() as conn:
            row = await (await conn.execute("SELECT count(*) AS n FROM store WHERE key = 'brief'")).fetchone()
        assert row == {"n": 0}

    async def test_reading_refreshes_the_ttl(self, user_store: MakeStore, app_store: AppStore) -> None:
        store = await user_store()
        await store.aput(("notes",), "k", {"t": 1}, ttl=60)

        async def expiry() -> object:
            async with app_store.pool.connection() as conn:
                row = await (
                    await conn.execute(
                        "SELECT expires_at FROM store WHERE prefix = %s", (f"{store.owner}.notes",)
                    )
                ).fetchone()
            return row["expires_at"] if row else None

        first = await expiry()
        await until(lambda: _later(expiry, first, store), "a read moved the expiry on")


async def _later(expiry: Callable[[], Awaitable[object]], first: object, store: UserStore) -> bool:
    await store.asearch(("notes",))
    return bool(await expiry() > first)  # type: ignore[operator]


class TestSearchByMeaning:
    async def test_a_paraphrase_is_found_and_an_unrelated_item_ranks_below_it(
        self, user_store: MakeStore, app_store: AppStore
    ) -> None:
        if app_store.embeddings is None:
            pytest.skip("the server has no pgvector: TestWithoutVectors covers this one")
        store, other = await user_store(), await user_store()
        await store.aput(("memories",), "drink", {"fact": "My favourite drink is green tea"})
        await store.aput(("memories",), "car", {"fact": "The car needs new winter tyres"})
        await store.aput(("memories",), "cat", {"fact": "Has a cat called Miso"}, index=False)
        await other.aput(("memories",), "drink", {"fact": "I like tea a lot"})

        found = await store.asearch(("memories",), query="what beverage do I like?")
        assert [item.key for item in found] == ["drink", "car"]  # unindexed items have no vector
        assert found[0].score is not None
        assert found[1].score is not None
        assert found[0].score > found[1].score

        # Put again without an index, an item leaves the ranking.
        await store.aput(("memories",), "car", {"fact": "The car needs new winter tyres"}, index=False)
        assert [item.key for item in await store.asearch(("memories",), query="tyres")] == ["drink"]

    async def test_a_narrow_filter_still_gives_limit_items(
        self, user_store: MakeStore, app_store: AppStore
    ) -> None:
        if app_store.embeddings is None:
            pytest.skip("the server has no pgvector")
        store = await user_store()
        for number in range(30):
            await store.aput(
                ("notes",), f"n{number}", {"text": f"note about tea number {number}", "n": number}
            )
        found = await store.asearch(("notes",), query="tea", filter={"n": {"$gte": 25}}, limit=5)
        assert sorted(item.key for item in found) == [f"n{n}" for n in range(25, 30)]


class TestWithoutVectors:
    async def test_a_query_lists_by_filters_and_recency(
        self, checkpointer: MessageCheckpointer, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        assert checkpointer.pool is not None
        plain = AppStore(checkpointer.pool, StoreSettings(embeddings="none"))
        try:
            await plain.open()
            assert plain.embeddings is None
            async with committed() as s:
                user = new_user()
                s.add(user)
                await s.commit()
            store = plain.for_user(user.id)
            await store.aput(("memories",), "old", {"fact": "green tea"})
            await store.aput(("memories",), "new", {"fact": "winter tyres"})
            found = await store.asearch(("memories",), query="tea")
            assert [item.key for item in found] == ["new", "old"]
            assert all(item.score is None for item in found)
        finally:
            await plain.close()
