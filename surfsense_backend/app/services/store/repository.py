"""Every query of the store's own: search, namespace listing, the TTL sweep.

Gets, puts and deletes are the stock store's SQL (`store.py`); these are
written here because the stock ones compare filters as text and list every
user's namespaces. Each runs on the app's psycopg pool, whose connections
never prepare statements unless PERSISTENCE_PREPARE_THRESHOLD says so
(PgBouncer-safe by default). Every query names its owner twice: by
`user_id` (none for the app's own items), and by the prefix every owned
namespace begins with (a user's id, or the app's label).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
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


def vector_text(embedding: list[float]) -> str:
    """pgvector's text form: the driver needs no adapter for it."""
    return "[" + ",".join(repr(float(x)) for x in embedding) + "]"


async def has_vectors(pool: Pool) -> bool:
    """Whether the vector table exists (the migration made it where pgvector is)."""
    async with pool.connection() as conn:
        row = await (
            await conn.execute("SELECT to_regclass('store_vectors') IS NOT NULL AS found")
        ).fetchone()
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


async def replace_vectors(
    pool: Pool, items: list[tuple[str, str]], rows: list[tuple[str, str, str, list[float]]]
) -> None:
    """The items' (prefix, key) embeddings: `rows` (prefix, key, field, vector) in place of their old ones."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(
            "DELETE FROM store_vectors WHERE (prefix, key) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
            [[p for p, _ in items], [k for _, k in items]],
        )
        if not rows:
            return
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO store_vectors (prefix, key, field_name, embedding)"
                " VALUES (%s, %s, %s, %s::vector)",
                [(prefix, key, field, vector_text(vector)) for prefix, key, field, vector in rows],
            )


def _owner_is(owner: str) -> tuple[str, list[Any]]:
    """The rows of `owner`: a user's id, or the app's label (its rows have no user)."""
    if owner == APP_OWNER:
        return "store.user_id IS NULL", []
    return "store.user_id = %s::uuid", [owner]


def _within(owned: tuple[str, ...]) -> tuple[str, list[Any]]:
    """`owned` (owner first) and every namespace below it."""
    text = prefix_text(owned)
    owner, owner_params = _owner_is(owned[0])
    return (
        rf"{owner} AND (store.prefix = %s OR store.prefix LIKE %s ESCAPE '\')",
        [*owner_params, text, f"{_like_literal(text)}.%"],
    )


def _ranked(scope: str, condition: str, near: list[float] | None) -> tuple[str, str, list[Any]]:
    """The candidate rows and their order: by meaning (the best field of each
    item, exactly, within the caller's matching items, so a narrow namespace
    or filter still gives `limit` when that many match), else newest first."""
    if near is None:
        select = f"""
            SELECT store.prefix, store.key, store.value, store.created_at, store.updated_at,
                   store.ttl_minutes, NULL::float8 AS score
              FROM store
             WHERE {scope} AND {_NOT_EXPIRED} AND ({condition})"""  # noqa: S608 - fixed fragments
        return select, "updated_at DESC, prefix, key", []
    select = f"""
            SELECT store.prefix, store.key, store.value, store.created_at, store.updated_at,
                   store.ttl_minutes, 1 - min(sv.embedding <=> %s::vector) AS score
              FROM store
              JOIN store_vectors sv ON sv.prefix = store.prefix AND sv.key = store.key
                   AND sv.embedding IS NOT NULL
             WHERE {scope} AND {_NOT_EXPIRED} AND ({condition})
             GROUP BY store.prefix, store.key"""  # noqa: S608 - fixed fragments; values are parameters
    return select, "score DESC, prefix, key", [vector_text(near)]


def search_statement(
    owned: tuple[str, ...],
    where: tuple[str, list[Any]],
    *,
    limit: int,
    offset: int,
    refresh: bool,
    near: list[float] | None = None,
) -> tuple[str, list[Any]]:
    """The statement `search` runs, and its parameters (also for EXPLAIN)."""
    scope, scope_params = _within(owned)
    condition, condition_params = where
    select, order, near_params = _ranked(scope, condition, near)
    query = f"""
        WITH found AS ({select}
             ORDER BY {order}
             LIMIT %s OFFSET %s
        ), refreshed AS (
            UPDATE store SET expires_at = now() + make_interval(mins => found.ttl_minutes)
              FROM found
             WHERE %s AND found.ttl_minutes IS NOT NULL
               AND store.prefix = found.prefix AND store.key = found.key
        )
        SELECT prefix, key, value, created_at, updated_at, score FROM found
         ORDER BY {order}
    """  # noqa: S608 - the filter's SQL is built from fixed fragments; its values are parameters
    return query, [*near_params, *scope_params, *condition_params, limit, offset, refresh]


async def search(
    pool: Pool,
    owned: tuple[str, ...],
    where: tuple[str, list[Any]],
    *,
    limit: int,
    offset: int,
    refresh: bool,
    near: list[float] | None = None,
) -> list[Row]:
    """The items under `owned` (its owner's id first) that match `where`:
    closest to `near` first (a query's embedding), else newest update first;
    `refresh` restarts the TTL of those returned."""
    query, params = search_statement(owned, where, limit=limit, offset=offset, refresh=refresh, near=near)
    async with pool.connection() as conn:
        rows = await (await conn.execute(query, params)).fetchall()
    return [_row(row) for row in rows]


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
