"""Every query of the store's own: search, namespace listing, the TTL sweep.

Gets, puts and deletes are the stock store's SQL (`store.py`); these are
written here because the stock ones compare filters as text and list every
user's namespaces. Each runs on the app's psycopg pool, whose connections
never prepare statements unless PERSISTENCE_PREPARE_THRESHOLD says so
(PgBouncer-safe by default). Every query names its owner twice: by
`user_id` (none for the app's own items), and by the prefix every owned
namespace begins with (a user's id, or the app's label).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, Rollback
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool

from app.services.store.metrics import STORE_ITEMS_EXPIRED
from app.services.store.migrations import APP_OWNER

Pool = AsyncConnectionPool[AsyncConnection[DictRow]]

_NOT_EXPIRED = "(store.expires_at IS NULL OR store.expires_at > now())"


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def prefix_text(namespace: tuple[str, ...]) -> str:
    """A namespace as the stock store keeps it in `prefix`: labels joined by dots."""
    return ".".join(namespace)


@dataclass(frozen=True)
class Row:
    namespace: tuple[str, ...]
    key: str
    value: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    # Cosine similarity to the query, for a search by meaning.
    score: float | None = None
    # How many vectors its search by meaning ranked.
    scanned: int | None = None


@dataclass(frozen=True)
class Query:
    """A search: under `owned` (its owner's id first), what matches `where`
    (a filter's SQL and values), a page of it, closest to `near` (a query's
    embedding) first or else newest first; `refresh` restarts their TTL."""

    owned: tuple[str, ...]
    where: tuple[str, list[Any]]
    limit: int
    offset: int
    refresh: bool
    near: list[float] | None = None


def vector_text(embedding: list[float]) -> str:
    """pgvector's text form: the driver needs no adapter for it."""
    return "[" + ",".join(repr(float(x)) for x in embedding) + "]"


async def has_vectors(pool: Pool) -> bool:
    """Whether the vector table exists (the migration made it where pgvector is)."""
    return await _exists(pool, "store_vectors")


async def has_vector_index(pool: Pool) -> bool:
    """Whether the vectors have their HNSW index (not above 2,000 dimensions)."""
    return await _exists(pool, "store_vectors_embedding_idx")


async def _exists(pool: Pool, relation: str) -> bool:
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT to_regclass(%s) IS NOT NULL AS found", [relation])).fetchone()
    return bool(row and row["found"])


async def vector_dims(pool: Pool) -> int:
    """The dimensions of the stored vectors (pgvector keeps them as the column's typmod)."""
    async with pool.connection() as conn:
        query = (
            "SELECT atttypmod AS dims FROM pg_attribute"
            " WHERE attrelid = 'store_vectors'::regclass AND attname = 'embedding'"
        )
        row = await (await conn.execute(query)).fetchone()
    return int(row["dims"]) if row else -1


@dataclass(frozen=True)
class Vectors:
    """Vectors made for a batch's puts: the items (prefix, key) whose old
    ones go, and the new rows (prefix, key, field, vector)."""

    items: list[tuple[str, str]]
    rows: list[tuple[str, str, str, list[float]]]


async def put(pool: Pool, statements: Sequence[tuple[str, Sequence[Any]]], vectors: Vectors | None) -> None:
    """The stock store's put `statements`, then the items' new vectors in
    place of their old ones: in one transaction, so an item is never stored
    with its old vectors or without its new ones, and one pipeline, so the
    whole put costs one round trip and one commit (as the stock put does)."""
    async with pool.connection() as conn, conn.pipeline(), conn.transaction():
        for statement, params in statements:
            await conn.execute(statement, params)
        if vectors is None:
            return
        await conn.execute(
            "DELETE FROM store_vectors WHERE (prefix, key) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
            [[p for p, _ in vectors.items], [k for _, k in vectors.items]],
        )
        if vectors.rows:
            async with conn.cursor() as cur:
                await cur.executemany(
                    "INSERT INTO store_vectors (prefix, key, field_name, embedding)"
                    " VALUES (%s, %s, %s, %s::vector)",
                    [(*row[:3], vector_text(row[3])) for row in vectors.rows],
                )


def _owner_is(owner: str) -> tuple[str, list[Any]]:
    """The rows of `owner`: a user's id, or the app's label (its rows have no user)."""
    if owner == APP_OWNER:
        return "store.user_id IS NULL", []
    return "store.user_id = %s::uuid", [owner]


def _within(owned: tuple[str, ...], table: str = "store") -> tuple[str, list[Any]]:
    """`owned` (owner first) and every namespace below it: by owner too, for `store`."""
    text = prefix_text(owned)
    by_prefix = rf"({table}.prefix = %s OR {table}.prefix LIKE %s ESCAPE '\')"
    params: list[Any] = [text, f"{_like_literal(text)}.%"]
    if table != "store":
        return by_prefix, params
    owner, owner_params = _owner_is(owned[0])
    return f"{owner} AND {by_prefix}", [*owner_params, *params]


_COLUMNS = "store.prefix, store.key, store.value, store.created_at, store.updated_at, store.ttl_minutes"

# Search by meaning reads the HNSW index when the caller has this many
# matching items at least: fewer are ranked exactly, by reading each of
# their vectors, in less time than the index scan takes (W10, a million
# vectors: 33 ms for a user's 10,000 scattered among them, the index scan
# 115 to 120)...
EXACT_UP_TO = 20_000
# ...and when the index scan should find its candidates within this many
# vectors, at the matching items' share of everyone's: it passes every
# other vector it meets, each costing some fifteen page reads, so a user
# with a small share of many vectors is ranked exactly whatever their count.
SCAN_BUDGET = 250
# The nearest vectors fetched per result asked, then ranked by item: more
# than one, as an item with several fields has several, and the index scan
# returns them only roughly in order.
CANDIDATES_PER_RESULT = 2
# The index scan's settings, in its transaction only (SET LOCAL: PgBouncer-
# safe). An iterative scan goes on past ef_search until enough rows pass
# the owner and the filter, instead of returning what one pass found; in
# relaxed order, since the candidates are re-ranked anyway; and gives up
# at twice the budget, where the exact ranking takes over. Without bitmap
# scans: the owner's vectors by their prefix index, then sorted, is the
# exact ranking, which the count has just ruled out.
APPROXIMATE_SETTINGS = (
    "SET LOCAL hnsw.iterative_scan = relaxed_order;"
    f" SET LOCAL hnsw.max_scan_tuples = {2 * SCAN_BUDGET:d}; SET LOCAL enable_bitmapscan = off"
)


def _unfiltered(query: Query) -> bool:
    return query.where[0] == "TRUE"


def _ranked(query: Query, candidates: int | None, approximate: bool) -> tuple[str, str, list[Any]]:
    """The rows to rank, their order and their parameters: newest first
    without `near`, else the items of the nearest `candidates` vectors."""
    scope, scope_params = _within(query.owned)
    condition, condition_params = query.where
    matching = f"{scope} AND {_NOT_EXPIRED} AND ({condition})"
    params = [*scope_params, *condition_params]
    if query.near is None:
        select = (
            f"SELECT {_COLUMNS}, NULL::float8 AS score, NULL::bigint AS scanned FROM store WHERE {matching}"  # noqa: S608 - fixed fragments
        )
        return select, "updated_at DESC, prefix, key", params
    vector = vector_text(query.near)
    # The item's conditions: in the vectors' subquery, or after it (`after`).
    after, after_params = "TRUE", []
    if approximate:
        nearest, nearest_params = _by_index(query.owned, matching, [*params, vector, candidates])
    elif _unfiltered(query):
        nearest, nearest_params = _owners_nearest(query.owned, [vector, candidates])
        after, after_params = matching, params
    else:
        nearest, nearest_params = _exactly(matching, [*params, vector, candidates])
    # Each item ranked by its best field; `scanned`: how many vectors came,
    # fewer than `candidates` when the caller's ones ran out first.
    select = f"""
            SELECT * FROM (
                SELECT DISTINCT ON (store.prefix, store.key) {_COLUMNS},
                       1 - (nearest.embedding <=> %s::vector) AS score, nearest.scanned
                  FROM (SELECT vectors.*, count(*) OVER () AS scanned FROM ({nearest}) vectors) nearest
                  JOIN store ON store.prefix = nearest.prefix AND store.key = nearest.key
                 WHERE {after}
                 ORDER BY store.prefix, store.key, score DESC) best"""  # noqa: S608 - fixed fragments
    return select, "score DESC, prefix, key", [vector, *nearest_params, *after_params]


# Ordered by similarity, not distance: the planner would answer an order by
# distance from the HNSW index, whose plain scan stops at ef_search rows.
_BY_SIMILARITY = "ORDER BY 1 - (sv.embedding <=> %s::vector) DESC LIMIT %s"


def _owners_nearest(owned: tuple[str, ...], params: list[Any]) -> tuple[str, list[Any]]:
    """The nearest of the owner's vectors, each compared; the items'
    conditions come after (`_ranked`). The vectors are found by their own
    prefix index, not one lookup per item: a search without a filter reads
    the owner's vectors and nothing else. `params`: the vector and how many."""
    scope, scope_params = _within(owned, "sv")
    vectors = f"""
        SELECT sv.prefix, sv.key, sv.embedding
          FROM store_vectors sv
         WHERE {scope} AND sv.embedding IS NOT NULL
         {_BY_SIMILARITY}"""  # noqa: S608 - fixed fragments; values are parameters
    return vectors, [*scope_params, *params]


def _exactly(matching: str, params: list[Any]) -> tuple[str, list[Any]]:
    """The nearest vectors of the caller's matching items, each compared:
    for a filter, which leaves fewer items than the owner has vectors.
    `params`: the items' conditions', then the vector and how many."""
    vectors = f"""
        SELECT sv.prefix, sv.key, sv.embedding
          FROM store
          JOIN store_vectors sv ON sv.prefix = store.prefix AND sv.key = store.key
         WHERE {matching} AND sv.embedding IS NOT NULL
         {_BY_SIMILARITY}"""  # noqa: S608 - fixed fragments; values are parameters
    return vectors, params


def _by_index(owned: tuple[str, ...], matching: str, params: list[Any]) -> tuple[str, list[Any]]:
    """The nearest vectors of the caller's matching items, as the HNSW index
    finds them. The vectors' own prefix drops everyone else's rows in the
    index scan; the item's conditions are a subplan per vector (OFFSET 0
    keeps it one): as a join, the planner would rank exactly instead."""
    scope, scope_params = _within(owned, "sv")
    vectors = f"""
        SELECT sv.prefix, sv.key, sv.embedding
          FROM store_vectors sv
         WHERE {scope} AND sv.embedding IS NOT NULL
           AND EXISTS (SELECT FROM store
                        WHERE store.prefix = sv.prefix AND store.key = sv.key AND {matching}
                       OFFSET 0)
         ORDER BY sv.embedding <=> %s::vector
         LIMIT %s"""  # noqa: S608 - fixed fragments; values are parameters
    return vectors, [*scope_params, *params]


def search_statement(
    query: Query, candidates: int | None = None, *, approximate: bool = False
) -> tuple[str, list[Any]]:
    """The statement `search` runs, and its parameters (also for EXPLAIN):
    by meaning, among the nearest `candidates` vectors (None: all)."""
    select, order, params = _ranked(query, candidates, approximate)
    statement = f"""
        WITH found AS ({select}
             ORDER BY {order}
             LIMIT %s OFFSET %s
        ), refreshed AS (
            UPDATE store SET expires_at = now() + make_interval(mins => found.ttl_minutes)
              FROM found
             WHERE %s AND found.ttl_minutes IS NOT NULL
               AND store.prefix = found.prefix AND store.key = found.key
        )
        SELECT prefix, key, value, created_at, updated_at, score, scanned FROM found
         ORDER BY {order}
    """  # noqa: S608 - the filter's SQL is built from fixed fragments; its values are parameters
    return statement, [*params, query.limit, query.offset, query.refresh]


@dataclass(frozen=True)
class Matching:
    """The caller's matching items (their vectors, without a filter or when
    fewer than `enough`), counted up to `enough`: as many as make the HNSW
    index the faster way to rank them."""

    found: int
    enough: int

    @property
    def many(self) -> bool:
        return self.found >= self.enough


async def matching(conn: AsyncConnection[DictRow], query: Query) -> Matching:
    """How many items `query` matches, up to the count at which the HNSW
    index should find its candidates: EXACT_UP_TO at least, and so large a
    share of everyone's vectors (their planner statistics) that SCAN_BUDGET
    of them hold the candidates. The owner's vectors are counted first, from
    their prefix index alone (W10: 6 ms for a user's 10,000 scattered among
    a million, where counting their items, a table page each, took 110 to
    170): without a filter, or when they are fewer than that, they are the
    answer; only a filter on an owner with as many is counted on the items."""
    owned, owned_params = _owned_vectors(query)
    counted, counted_params = ("found", []) if _unfiltered(query) else _matching_items(query)
    statement = f"""
        WITH enough AS (
            SELECT greatest(%s, %s, ceil(%s * greatest(reltuples, 0) / %s))::bigint AS n
              FROM pg_class WHERE oid = 'store_vectors'::regclass
        ), owned AS (SELECT {owned} AS found)
        SELECT CASE WHEN found < (SELECT n FROM enough) THEN found ELSE {counted} END AS found,
               (SELECT n FROM enough) AS enough
          FROM owned
    """  # noqa: S608 - fixed fragments; values are parameters
    candidates = _candidates(query)
    params = [EXACT_UP_TO, candidates, candidates, SCAN_BUDGET, *owned_params, *counted_params]
    # `owned` is one row: so is the answer.
    row = await (await conn.execute(statement, params)).fetchone() or {"found": 0, "enough": 0}
    return Matching(int(row["found"]), int(row["enough"]))


def _matching_items(query: Query) -> tuple[str, list[Any]]:
    scope, scope_params = _within(query.owned)
    condition, condition_params = query.where
    counted = f"""(SELECT count(*) FROM (
                    SELECT FROM store WHERE {scope} AND {_NOT_EXPIRED} AND ({condition})
                     LIMIT (SELECT n FROM enough)) matching)"""  # noqa: S608 - fixed fragments
    return counted, [*scope_params, *condition_params]


def _owned_vectors(query: Query) -> tuple[str, list[Any]]:
    """The owner's vectors in the namespace and below it, as two counts: each
    range alone is read from the prefix index, their OR would need the table."""
    text = prefix_text(query.owned)
    counted = r"""((SELECT count(*) FROM (SELECT FROM store_vectors sv WHERE sv.prefix = %s
                                    LIMIT (SELECT n FROM enough)) here)
                 + (SELECT count(*) FROM (SELECT FROM store_vectors sv WHERE sv.prefix LIKE %s ESCAPE '\'
                                    LIMIT (SELECT n FROM enough)) below))"""
    return counted, [text, f"{_like_literal(text)}.%"]


def _candidates(query: Query) -> int:
    return (query.limit + query.offset) * CANDIDATES_PER_RESULT


async def search(pool: Pool, query: Query, *, indexed: bool = False) -> list[Row]:
    """The page of items `query` asks for: by meaning through the HNSW index
    (`indexed`) when it can answer, else exactly."""
    async with pool.connection() as conn:
        if query.near is None:
            return await _rows(conn, search_statement(query))
        matched = await matching(conn, query)
        if matched.found == 0:
            return []
        if indexed and (found := await through_index(conn, query, matched)) is not None:
            return found
        return await _exactly_ranked(conn, query)


async def through_index(
    conn: AsyncConnection[DictRow], query: Query, matched: Matching | None = None
) -> list[Row] | None:
    """The page by the HNSW index when the caller has many matching items and
    the scan brings every candidate asked; else None. A narrow filter,
    near-identical vectors the graph cannot get past, or items of many
    fields can end a scan early."""
    if not (matched or await matching(conn, query)).many:
        return None
    candidates = _candidates(query)
    async with conn.transaction():
        await conn.execute(APPROXIMATE_SETTINGS)
        rows = await _rows(conn, search_statement(query, candidates, approximate=True))
        if len(rows) == query.limit and rows[0].scanned == candidates:
            return rows
        # A page not returned restarts no item's TTL.
        raise Rollback
    return None


async def _exactly_ranked(conn: AsyncConnection[DictRow], query: Query) -> list[Row]:
    """The page ranked exactly: among the nearest vectors, more of them until
    they fill the page or are all there are."""
    candidates: int | None = _candidates(query)
    while True:
        rows = await _rows(conn, search_statement(query, candidates))
        # The nearest vectors hold the nearest items of any page they fill.
        if len(rows) == query.limit or candidates is None or _all_seen(rows, query, candidates):
            return rows
        # No row of a later page: it is past the end, or past the candidates' items.
        candidates = candidates * 4 if rows else None


def _all_seen(rows: list[Row], query: Query, candidates: int) -> bool:
    """Whether the candidates were every vector there is to rank: fewer came
    than asked, or, for a first page ranked among the matching items' own,
    none at all (ranked among the owner's, none came through the items'
    conditions: a later candidate may)."""
    if not rows:
        return query.offset == 0 and not _unfiltered(query)
    return (rows[0].scanned or 0) < candidates


async def _rows(conn: AsyncConnection[DictRow], statement: tuple[str, list[Any]]) -> list[Row]:
    return [_row(row) for row in await (await conn.execute(*statement)).fetchall()]


@dataclass(frozen=True)
class Match:
    """A namespace condition, as LangGraph's MatchCondition: `*` is any one label."""

    kind: str  # "prefix" or "suffix"
    path: tuple[str, ...]


def _match_sql(match: Match) -> tuple[str, list[Any]]:
    clauses = ["cardinality(labels) >= %s"]
    params: list[Any] = [len(match.path)]
    for index, label in enumerate(match.path, start=1):
        if label == "*":
            continue
        if match.kind == "prefix":
            clauses.append("labels[%s] = %s")
            params.extend([index, label])
        else:
            clauses.append("labels[cardinality(labels) - %s] = %s")
            params.extend([len(match.path) - index, label])
    return " AND ".join(clauses), params


async def list_namespaces(
    pool: Pool,
    owner: str,
    shared: frozenset[str],
    matches: list[Match],
    *,
    max_depth: int | None,
    limit: int,
    offset: int,
) -> list[tuple[str, ...]]:
    """The owner's namespaces and the app's whose first label is `shared`
    (each without its owner's label) that meet every match, cut to
    `max_depth` labels, distinct and in order."""
    conditions = ["TRUE"]
    params: list[Any] = []
    for match in matches:
        clause, values = _match_sql(match)
        conditions.append(clause)
        params.extend(values)
    shown = "labels" if max_depth is None else "labels[1:%s]"
    query = f"""
        SELECT DISTINCT {shown} AS namespace
          FROM (SELECT string_to_array(substr(store.prefix, %s), '.') AS labels
                  FROM store
                 WHERE store.user_id = %s::uuid AND store.prefix LIKE %s ESCAPE '\\' AND {_NOT_EXPIRED}
                 UNION ALL
                SELECT string_to_array(substr(store.prefix, %s), '.')
                  FROM store
                 WHERE store.user_id IS NULL AND store.prefix LIKE %s
                   AND split_part(store.prefix, '.', 2) = ANY(%s::text[]) AND {_NOT_EXPIRED}) visible
         WHERE {" AND ".join(conditions)}
         ORDER BY namespace
         LIMIT %s OFFSET %s
    """  # noqa: S608 - the conditions are fixed fragments; their labels are parameters
    head = [] if max_depth is None else [max_depth]
    own = [len(owner) + 2, owner, f"{_like_literal(owner)}.%"]
    apps = [len(APP_OWNER) + 2, f"{APP_OWNER}.%", sorted(shared)]
    arguments = [*head, *own, *apps, *params, limit, offset]
    async with pool.connection() as conn:
        rows = await (await conn.execute(query, arguments)).fetchall()
    return [tuple(row["namespace"]) for row in rows]


async def delete_expired(pool: Pool, batch: int) -> int:
    """Delete at most `batch` expired items: the retention sweep's part (counted)."""
    async with pool.connection() as conn:
        cursor = await conn.execute(
            """
            DELETE FROM store
             WHERE (prefix, key) IN (
                   SELECT prefix, key FROM store
                    WHERE expires_at IS NOT NULL AND expires_at <= now()
                    LIMIT %s)
            """,
            [batch],
        )
    STORE_ITEMS_EXPIRED.inc(cursor.rowcount)
    return cursor.rowcount


def _row(row: Any) -> Row:
    return Row(
        tuple(row["prefix"].split(".")),
        row["key"],
        row["value"],
        row["created_at"],
        row["updated_at"],
        row.get("score"),
        row.get("scanned"),
    )


async def page(pool: Pool, owner: str, after: tuple[datetime, str, str] | None, limit: int) -> list[Row]:
    """A page of the owner's unexpired items, newest update first, after
    the item `after` (its updated_at, prefix, key) of the previous page."""
    params: list[Any] = [owner, f"{_like_literal(owner)}.%"]
    keyset = ""
    if after is not None:
        keyset = "AND (store.updated_at, store.prefix, store.key) < (%s, %s, %s)"
        params.extend(after)
    query = f"""
        SELECT store.prefix, store.key, store.value, store.created_at, store.updated_at
          FROM store
         WHERE store.user_id = %s::uuid AND store.prefix LIKE %s ESCAPE '\\' AND {_NOT_EXPIRED} {keyset}
         ORDER BY store.updated_at DESC, store.prefix DESC, store.key DESC
         LIMIT %s
    """  # noqa: S608 - fixed fragments; values are parameters
    async with pool.connection() as conn:
        rows = await (await conn.execute(query, [*params, limit])).fetchall()
    return [_row(row) for row in rows]


async def delete_one(pool: Pool, owned: tuple[str, ...], key: str) -> bool:
    """Delete the owner's item; whether there was one."""
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "DELETE FROM store WHERE user_id = %s::uuid AND prefix = %s AND key = %s",
            [owned[0], prefix_text(owned), key],
        )
        return cursor.rowcount > 0


async def delete_app_items_except(pool: Pool, owned: tuple[str, ...], keys: list[str]) -> int:
    """Delete the app's items in the namespace `owned` (the app's label first)
    whose key is not in `keys`; how many."""
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "DELETE FROM store WHERE user_id IS NULL AND prefix = %s AND NOT (key = ANY(%s::text[]))",
            [prefix_text(owned), keys],
        )
        return cursor.rowcount


async def delete_all(pool: Pool, owner: str) -> int:
    """Delete every item of the owner's; how many."""
    async with pool.connection() as conn:
        cursor = await conn.execute("DELETE FROM store WHERE user_id = %s::uuid", [owner])
        return cursor.rowcount
