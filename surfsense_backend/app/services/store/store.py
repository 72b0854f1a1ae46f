"""LangGraph's store in PostgreSQL, each user's items private by construction.

`AppStore` is the stock `AsyncPostgresStore` on the app's psycopg pool: its
gets, puts and deletes are the stock SQL; its search and namespace listing
are this package's (`repository.py`), since the stock ones compare filters
as text and list every user's namespaces. It is never handed out bare.

`UserStore` is what a graph and a client get: a `BaseStore` for one user.
It puts the user's id in front of every namespace it is given, and takes it
off every namespace it returns, so each sees its namespaces as it wrote
them and none can name another user's: labels cannot hold the dot that
joins them, and the owner's label is always first. A namespace whose first
label is one of STORE_SHARED_NAMESPACES is the app's: it reads the app's
items (owner label `app`, which no user id can be), and no user or graph
may put or delete there; only `AppStore.load_shared` writes them.
Everything it is given is checked (`checks.py`, `filters.py`) before any
statement runs.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from langchain_core.embeddings import Embeddings
from langgraph.store.base import (
    NOT_PROVIDED,
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    get_text_at_path,
)
from langgraph.store.postgres import AsyncPostgresStore

from app.config import StoreSettings
from app.services.store import reindex, repository
from app.services.store.checks import (
    check_bounds,
    check_index,
    check_key,
    check_label,
    check_namespace,
    check_text,
    check_ttl,
    check_value,
)
from app.services.store.embeddings import load_embeddings, model_dims, sized
from app.services.store.errors import (
    EmbeddingFailed,
    InvalidStoreInput,
    NotShared,
    SharedNamespaceReadOnly,
    VectorsMismatch,
)
from app.services.store.filters import filter_sql
from app.services.store.metrics import STORE_OPERATIONS
from app.services.store.migrations import APP_OWNER

logger = logging.getLogger(__name__)


def ttl_config(settings: StoreSettings) -> TTLConfig:
    # omit_expired: an item past its time is never returned, swept or not.
    return {
        "default_ttl": settings.default_ttl,
        "refresh_on_read": settings.refresh_on_read,
        "omit_expired": True,
    }


T = TypeVar("T")


async def from_model(call: Awaitable[T]) -> T:
    """What the embedding model answers; its provider failing (down, refusing,
    rate-limited) is EmbeddingFailed (502), not a fault of the app's."""
    try:
        return await call
    except Exception as exc:
        raise EmbeddingFailed(exc) from exc


@dataclass(frozen=True)
class Loaded:
    """What loading a shared namespace did: items put, and deleted (with `replace`)."""

    put: int
    deleted: int


class AppStore(AsyncPostgresStore):
    """The stock store on the shared pool, and the queries it gets wrong done
    right. Its vectors are written and searched here too (the stock store
    would need its index configuration, whose search filters after the
    vector scan); `open()` finds whether the server has them."""

    def __init__(self, pool: repository.Pool, settings: StoreSettings) -> None:
        super().__init__(pool, ttl=ttl_config(settings))
        self.pool = pool
        self.settings = settings
        self.embeddings: Embeddings | None = None
        self.dims = model_dims(settings)
        # Whether searches by meaning may read the HNSW index (`open()` finds out).
        self.indexed = False

    async def open(self) -> None:
        """Search by meaning where the vector table is (and the model is on),
        else by filters and recency: said once, here, at start-up."""
        if self.settings.embeddings == "none":
            logger.info("STORE_EMBEDDINGS=none: the store searches by filters and recency")
        elif not await repository.has_vectors(self.pool):
            logger.warning(
                "the database has no pgvector: the store searches by filters and recency, not by meaning"
            )
        else:
            await self._fit_vectors()
            self.indexed = await repository.has_vector_index(self.pool)
            self.embeddings = await asyncio.to_thread(load_embeddings, self.settings)

    async def _fit_vectors(self) -> None:
        """The vector column at the model's size. The migration makes it for the
        bundled model; a project whose model has another size (langgraph.json's
        `store.index.dims`, say 1536) gets it retyped while nothing is embedded.
        Vectors of another size already stored are VectorsMismatch: only
        `store-reindex` may drop them."""
        stored = await repository.vector_dims(self.pool)
        if stored == self.dims:
            return
        if await reindex.embedded_items(self.pool):
            raise VectorsMismatch(stored, self.dims)
        await reindex.resize(self.pool, self.dims)
        await reindex.index_vectors(self.pool, self.dims)
        logger.info("the store's empty vector column: retyped from %d to %d dimensions", stored, self.dims)

    async def close(self) -> None:
        """Stop the task the stock store starts to batch its own aget/aput
        calls: this app calls `abatch`, so it never has work, but left
        running it outlives the event loop ("Task was destroyed but it is pending")."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def vectors(self, puts: list[PutOp]) -> repository.Vectors | None:
        """The vectors of what each put stores (its `index` fields, else the
        whole value), embedded before anything is stored, so a model that
        fails stores nothing; None without embeddings."""
        if self.embeddings is None:
            return None
        # Every item put loses its old vectors, also one now put with index=False.
        items = [(repository.prefix_text(op.namespace), op.key) for op in puts if op.value is not None]
        wanted: list[tuple[str, str, str, str]] = []
        for op in puts:
            if op.value is None or op.index is False:
                continue
            for field in op.index or self.settings.index_fields or ["$"]:
                texts = get_text_at_path(op.value, field)
                for number, text in enumerate(texts):
                    name = f"{field}.{number}" if len(texts) > 1 else field
                    wanted.append((repository.prefix_text(op.namespace), op.key, name, text))
        if not items:
            return None
        texts = [text for *_, text in wanted]
        made = sized(await from_model(self.embeddings.aembed_documents(texts)), self.dims) if wanted else []
        rows = [
            (prefix, key, name, vector) for (prefix, key, name, _), vector in zip(wanted, made, strict=True)
        ]
        return repository.Vectors(items, rows)

    async def abatch_owned(self, ops: Sequence[GetOp | PutOp]) -> list[Result]:
        """Gets and puts in namespaces already behind their owner's label, by
        the stock SQL: the gets first (as the stock batch runs them), then
        the puts with their vectors, made before anything is stored."""
        gets = [op for op in ops if isinstance(op, GetOp)]
        puts = [op for op in ops if isinstance(op, PutOp)]
        found = iter(await self.abatch(gets) if gets else [])
        if puts:
            vectors = await self.vectors(puts)
            statements, _ = self._prepare_batch_PUT_queries(list(enumerate(puts)))
            await repository.put(self.pool, statements, vectors)
        return [next(found) if isinstance(op, GetOp) else None for op in ops]

    def is_shared(self, namespace: tuple[str, ...]) -> bool:
        """Whether `namespace` is the app's (its first label in STORE_SHARED_NAMESPACES)."""
        return bool(namespace) and namespace[0] in self.settings.shared_namespaces

    async def load_shared(
        self, namespace: Sequence[str], items: Sequence[tuple[str, object]], *, replace: bool = False
    ) -> Loaded:
        """Put `items` (key, value) into the app's shared `namespace`, each
        embedded as a user's put is, without TTL: the operator's path
        (`surfsense-db store-load`). A namespace the settings do not share is
        NotShared, and any bad key or value refuses them all before anything
        is stored. With `replace`, the namespace's items not among them are
        deleted after the puts (a reader meanwhile may still see an old one,
        never miss a new one)."""
        checked = check_namespace(namespace, self.settings)
        if not self.is_shared(checked):
            raise NotShared(checked, self.settings.shared_namespaces)
        owned = (APP_OWNER, *checked)
        puts = [
            PutOp(owned, check_key(key), check_value(value, self.settings), ttl=None) for key, value in items
        ]
        await self.abatch_owned(puts)
        deleted = (
            await repository.delete_app_items_except(self.pool, owned, [op.key for op in puts])
            if replace
            else 0
        )
        return Loaded(len(puts), deleted)

    def for_user(self, user_id: uuid.UUID | str) -> "UserStore":
        return UserStore(self, str(uuid.UUID(str(user_id))))


class UserStore(BaseStore):
    """One user's store: the namespaces it reads and writes are theirs alone."""

    supports_ttl = True

    def __init__(self, store: AppStore, owner: str) -> None:
        self.store = store
        self.owner = owner
        self.ttl_config: TTLConfig = store.ttl_config or {}
        self._loop = asyncio.get_running_loop()

    def refreshes(self, given: bool | None) -> bool:
        """Whether a read restarts the TTL: as asked, else the store's default."""
        return bool(self.ttl_config.get("refresh_on_read")) if given is None else given

    def _own(self, namespace: tuple[str, ...]) -> tuple[str, ...]:
        """`namespace` behind its owner's label: the app's for a shared one, else the user's."""
        return (APP_OWNER if self.store.is_shared(namespace) else self.owner, *namespace)

    def _checked(self, op: Op) -> Op:
        """`op` checked and in the owner's namespaces."""
        settings = self.store.settings
        if isinstance(op, GetOp):
            namespace = check_namespace(op.namespace, settings)
            return op._replace(namespace=self._own(namespace), key=check_key(op.key))
        if isinstance(op, PutOp):
            namespace = check_namespace(op.namespace, settings)
            if self.store.is_shared(namespace):
                raise SharedNamespaceReadOnly(namespace)
            key = check_key(op.key)
            if op.value is None:
                return op._replace(namespace=self._own(namespace), key=key)
            value = check_value(op.value, settings)
            # LangGraph's own aput resolves NOT_PROVIDED; an op made by hand may carry it.
            given: object = op.ttl
            ttl = self.ttl_config.get("default_ttl") if given is NOT_PROVIDED else check_ttl(given)
            index = check_index(op.index)
            return op._replace(namespace=self._own(namespace), key=key, value=value, index=index, ttl=ttl)
        if isinstance(op, SearchOp):
            namespace = check_namespace(op.namespace_prefix, settings, empty=True)
            check_bounds(op.limit, op.offset, settings)
            filter_sql(op.filter)  # refused now, not after other ops ran
            if op.query is not None:
                check_text("A query", op.query)
            return op._replace(namespace_prefix=self._own(namespace))
        if isinstance(op, ListNamespacesOp):
            check_bounds(op.limit, op.offset, settings)
            depth = op.max_depth
            if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
                raise InvalidStoreInput(f"max_depth must be a whole number of at least 1, not {depth!r}.")
            for condition in op.match_conditions or ():
                _check_condition(condition, settings)
            return op
        raise InvalidStoreInput(f"The store does not know the operation {type(op).__name__}.")

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        checked = [self._checked(op) for op in ops]
        for op in checked:
            STORE_OPERATIONS.labels(_operation(op)).inc()
        results: list[Result] = [None] * len(checked)
        stock = [(index, op) for index, op in enumerate(checked) if isinstance(op, GetOp | PutOp)]
        if stock:
            found = await self.store.abatch_owned([op for _, op in stock])
            for (index, _), result in zip(stock, found, strict=True):
                results[index] = self._shown(result)
        for index, op in enumerate(checked):
            if isinstance(op, SearchOp):
                results[index] = await self._search(op)
            elif isinstance(op, ListNamespacesOp):
                results[index] = await self._list_namespaces(op)
        return results

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """For a graph's sync nodes, which LangGraph runs in threads of their own."""
        try:
            if asyncio.get_running_loop() is self._loop:
                raise asyncio.InvalidStateError(
                    "Synchronous calls to the store from the event loop would block it: "
                    "use its async methods (aget, aput, asearch) there."
                )
        except RuntimeError:
            pass  # no loop in this thread: the usual case for a sync node
        return asyncio.run_coroutine_threadsafe(self.abatch(ops), self._loop).result()

    def _shown(self, result: Result) -> Result:
        if isinstance(result, Item):
            return Item(
                value=result.value,
                key=result.key,
                namespace=result.namespace[1:],
                created_at=result.created_at,
                updated_at=result.updated_at,
            )
        return result

    async def _search(self, op: SearchOp) -> list[SearchItem]:
        embeddings = self.store.embeddings
        near = None
        if op.query and embeddings is not None:
            near = sized([await from_model(embeddings.aembed_query(op.query))], self.store.dims)[0]
        query = repository.Query(
            op.namespace_prefix,
            filter_sql(op.filter),
            op.limit,
            op.offset,
            self.refreshes(op.refresh_ttl),
            near,
        )
        rows = await repository.search(self.store.pool, query, indexed=self.store.indexed)
        # Without vectors a query cannot rank by meaning: the stock store
        # then lists by filter and recency, with no score; so does this.
        return [
            SearchItem(
                namespace=row.namespace[1:],
                key=row.key,
                value=row.value,
                created_at=row.created_at,
                updated_at=row.updated_at,
                score=row.score,
            )
            for row in rows
        ]

    async def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        matches = [repository.Match(c.match_type, tuple(c.path)) for c in op.match_conditions or ()]
        return await repository.list_namespaces(
            self.store.pool,
            self.owner,
            self.store.settings.shared_namespaces,
            matches,
            max_depth=op.max_depth,
            limit=op.limit,
            offset=op.offset,
        )


def _operation(op: Op) -> str:
    if isinstance(op, PutOp):
        return "delete" if op.value is None else "put"
    return {GetOp: "get", SearchOp: "search"}.get(type(op), "list_namespaces")


def _check_condition(condition: object, settings: StoreSettings) -> None:
    if not isinstance(condition, MatchCondition) or condition.match_type not in ("prefix", "suffix"):
        raise InvalidStoreInput("A namespace condition is a prefix or a suffix.")
    if not isinstance(condition.path, list | tuple) or len(condition.path) > settings.max_namespace_depth:
        raise InvalidStoreInput(
            f"A namespace {condition.match_type} is a list of at most {settings.max_namespace_depth} labels."
        )
    for label in condition.path:
        if label != "*":
            check_label(label)
