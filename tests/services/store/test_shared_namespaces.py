"""The app's shared, read-only namespaces (STORE_SHARED_NAMESPACES) on real
PostgreSQL: every user reads the app's items there, none can put or delete
them, deleting a user leaves them, and each user's own stay private."""

from collections.abc import AsyncIterator

import pytest
from langgraph.store.base import PutOp
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import StoreSettings
from app.models import User
from app.services.persistence import MessageCheckpointer
from app.services.store import AppStore
from app.services.store.errors import InvalidStoreInput, MemoryNotFound, NotShared, SharedNamespaceReadOnly
from app.services.store.memories import MemoryService
from app.services.store.store import Loaded
from tests.factories import new_user
from tests.services.store.conftest import MakeStore

HANDBOOK = [
    ("leave", {"text": "Staff get 25 days of paid holiday a year"}),
    ("bikes", {"text": "Bicycles are parked in the basement garage"}),
]


async def _open(checkpointer: MessageCheckpointer, embeddings: str = "local") -> AppStore:
    assert checkpointer.pool is not None
    settings = StoreSettings(shared_namespaces="handbook,policies", embeddings=embeddings)
    store = AppStore(checkpointer.pool, settings)
    await store.open()
    return store


async def _app_rows(store: AppStore) -> list[tuple[str, str, object]]:
    async with store.pool.connection() as conn:
        rows = await (
            await conn.execute("SELECT prefix, key, user_id FROM store WHERE user_id IS NULL ORDER BY 1, 2")
        ).fetchall()
    return [(row["prefix"], row["key"], row["user_id"]) for row in rows]


@pytest.fixture
async def app_store(checkpointer: MessageCheckpointer) -> AsyncIterator[AppStore]:
    """A store sharing `handbook` and `policies`, the handbook loaded; the app's rows deleted after."""
    store = await _open(checkpointer)
    await store.load_shared(["handbook", "staff"], HANDBOOK)
    yield store
    async with store.pool.connection() as conn:
        await conn.execute("DELETE FROM store WHERE user_id IS NULL")
    await store.close()


class TestReading:
    async def test_every_user_reads_the_apps_items_as_written(self, user_store: MakeStore) -> None:
        for store in (await user_store(), await user_store()):
            item = await store.aget(("handbook", "staff"), "leave")
            assert item is not None
            assert item.namespace == ("handbook", "staff")
            assert item.value == HANDBOOK[0][1]
            found = await store.asearch(("handbook",), filter={"text": {"$gte": "Staff"}})
            assert [(i.namespace, i.key) for i in found] == [(("handbook", "staff"), "leave")]
            assert {i.key for i in await store.asearch(("handbook", "staff"))} == {"leave", "bikes"}

    async def test_listing_shows_them_beside_the_users_own_and_an_empty_prefix_search_does_not(
        self, user_store: MakeStore
    ) -> None:
        store = await user_store()
        await store.aput(("memories",), "tea", {"text": "likes green tea"})
        assert await store.alist_namespaces() == [("handbook", "staff"), ("memories",)]
        assert await store.alist_namespaces(prefix=("handbook",)) == [("handbook", "staff")]
        assert await store.alist_namespaces(suffix=("staff",), max_depth=1) == [("handbook",)]
        # The user's own memory, not the app's handbook (decision 0026).
        assert [i.key for i in await store.asearch(())] == ["tea"]

    async def test_a_query_ranks_them_by_meaning_where_there_are_vectors(
        self, user_store: MakeStore, app_store: AppStore
    ) -> None:
        store = await user_store()
        found = await store.asearch(("handbook",), query="how many vacation days do employees have?")
        if app_store.embeddings is None:
            # Without pgvector: by recency, unranked, as a user's own search.
            assert [i.key for i in found] == ["bikes", "leave"]
            assert all(i.score is None for i in found)
            return
        assert [i.key for i in found] == ["leave", "bikes"]
        assert found[0].score is not None
        assert found[1].score is not None
        assert found[0].score > found[1].score

    async def test_without_vectors_a_query_lists_them_by_recency(
        self, checkpointer: MessageCheckpointer, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        plain = await _open(checkpointer, embeddings="none")
        try:
            await plain.load_shared(["policies"], [("old", {"text": "a"}), ("new", {"text": "b"})])
            async with committed() as s:
                user = new_user()
                s.add(user)
                await s.commit()
            found = await plain.for_user(user.id).asearch(("policies",), query="b")
            assert [i.key for i in found] == ["new", "old"]
            assert all(i.score is None for i in found)
        finally:
            async with plain.pool.connection() as conn:
                await conn.execute("DELETE FROM store WHERE user_id IS NULL")
            await plain.close()


class TestReadOnly:
    @pytest.mark.parametrize(
        "op",
        [
            PutOp(("handbook", "staff"), "leave", {"text": "Staff get 90 days"}),
            PutOp(("handbook", "staff"), "leave", None),
            PutOp(("handbook",), "new", {"text": "a rule of my own"}),
            PutOp(("policies", "x"), "k", None),
        ],
    )
    async def test_a_put_or_delete_is_refused_and_nothing_changes(
        self, user_store: MakeStore, app_store: AppStore, op: PutOp
    ) -> None:
        store = await user_store()
        before = await _app_rows(app_store)
        with pytest.raises(SharedNamespaceReadOnly) as refused:
            # A good put in the same batch is not stored either.
            await store.abatch([PutOp(("notes",), "k", {"v": 1}), op])
        assert refused.value.status_code == 403
        assert repr(list(op.namespace)) in str(refused.value)
        assert await _app_rows(app_store) == before
        assert await store.asearch(()) == []
        item = await store.aget(("handbook", "staff"), "leave")
        assert item is not None
        assert item.value == HANDBOOK[0][1]

    async def test_deleting_a_user_or_all_their_memories_leaves_the_apps_items(
        self, user_store: MakeStore, app_store: AppStore, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        store = await user_store()
        before = await _app_rows(app_store)
        assert [row[2] for row in before] == [None, None]
        memories = MemoryService(store, "secret")
        assert await memories.delete_all() == 0
        with pytest.raises(MemoryNotFound):
            await memories.delete(["handbook", "staff"], "leave")
        async with committed() as s:
            await s.execute(delete(User).where(User.id == store.owner))
            await s.commit()
        assert await _app_rows(app_store) == before
        assert (await (await user_store()).aget(("handbook", "staff"), "bikes")) is not None


class TestPrivate:
    async def test_users_own_items_stay_theirs_whatever_the_labels(self, user_store: MakeStore) -> None:
        alice, bob = await user_store(), await user_store()
        # "app", the app's own label, is an ordinary label in a user's namespace.
        await alice.aput(("app", "handbook"), "k", {"secret": 1})
        await alice.aput(("notes",), "k", {"secret": 2})
        for store in (bob, alice):
            found = await store.asearch(("handbook",))
            assert {i.key for i in found} == {"leave", "bikes"}
        assert await bob.asearch(("app",)) == []
        assert await bob.aget(("app", "handbook"), "k") is None
        assert await bob.alist_namespaces() == [("handbook", "staff")]
        assert [i.value for i in await alice.asearch(("app",))] == [{"secret": 1}]
        # Another user's id as the first label stays inside the caller's own.
        assert await bob.asearch((alice.owner,)) == []
        assert await alice.alist_namespaces() == [("app", "handbook"), ("handbook", "staff"), ("notes",)]

    async def test_a_label_taken_off_the_setting_is_the_users_own_again(
        self,
        checkpointer: MessageCheckpointer,
        committed: async_sessionmaker[AsyncSession],
        app_store: AppStore,
    ) -> None:
        assert checkpointer.pool is not None
        unshared = AppStore(checkpointer.pool, StoreSettings(shared_namespaces="policies"))
        try:
            async with committed() as s:
                user = new_user()
                s.add(user)
                await s.commit()
            store = unshared.for_user(user.id)
            assert await store.aget(("handbook", "staff"), "leave") is None
            assert await store.asearch(("handbook",)) == []
            assert await store.alist_namespaces() == []
            await store.aput(("handbook", "staff"), "leave", {"text": "my own note"})
            assert [i.value for i in await store.asearch(("handbook",))] == [{"text": "my own note"}]
        finally:
            await unshared.close()
        item = await app_store.for_user(user.id).aget(("handbook", "staff"), "leave")
        assert item is not None
        assert item.value == HANDBOOK[0][1]


class TestLoading:
    async def test_a_namespace_not_shared_is_refused_and_nothing_stored(self, app_store: AppStore) -> None:
        before = await _app_rows(app_store)
        with pytest.raises(NotShared, match=r"\['notes'\] is not one of the app's.*handbook, policies"):
            await app_store.load_shared(["notes"], [("k", {"v": 1})])
        with pytest.raises(InvalidStoreInput, match="NUL"):
            await app_store.load_shared(["handbook"], [("ok", {"v": 1}), ("bad", {"v": "\x00"})])
        assert await _app_rows(app_store) == before

    async def test_loading_again_replaces_an_item(self, app_store: AppStore, user_store: MakeStore) -> None:
        loaded = await app_store.load_shared(
            ["handbook", "staff"], [("leave", {"text": "Staff get 30 days"})]
        )
        assert loaded == Loaded(put=1, deleted=0)
        item = await (await user_store()).aget(("handbook", "staff"), "leave")
        assert item is not None
        assert item.value == {"text": "Staff get 30 days"}
        assert await _app_rows(app_store) == [
            ("app.handbook.staff", "bikes", None),
            ("app.handbook.staff", "leave", None),
        ]

    async def test_replacing_deletes_that_namespaces_items_the_load_does_not_hold(
        self, app_store: AppStore, user_store: MakeStore
    ) -> None:
        store = await user_store()
        await store.aput(("handbook-notes",), "bikes", {"text": "mine"})
        await app_store.load_shared(["handbook", "staff", "old"], [("bikes", {"text": "below"})])
        loaded = await app_store.load_shared(
            ["handbook", "staff"], [("leave", {"text": "30 days"})], replace=True
        )
        assert loaded == Loaded(put=1, deleted=1)
        assert await _app_rows(app_store) == [
            ("app.handbook.staff", "leave", None),
            ("app.handbook.staff.old", "bikes", None),
        ]
        assert [i.key for i in await store.asearch(("handbook", "staff"))] == ["leave", "bikes"]
        assert [i.value for i in await store.asearch(())] == [{"text": "mine"}]
