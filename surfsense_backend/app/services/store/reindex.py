"""Embedding the store's items again, for another model or another size.

Every item that has vectors gets them again from the configured model, for
the same fields (read back from the names its vectors were stored under),
in batches that each commit, while the app runs. A batch writes an item's
new vectors only if the item is unchanged since it was read, its row locked
until the commit: an item put meanwhile was embedded by that put, and keeps
those vectors.

For another size the vector column is retyped first, in one transaction
that empties it: an item not yet embedded again is then missing from a
search by meaning (the search skips empty vectors), never ranked by a
distance between vectors of two models.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from langgraph.store.base import get_text_at_path

from app.services.store.migrations import VECTOR_MIGRATIONS_V2
from app.services.store.repository import Pool, vector_dims, vector_text

# pgvector indexes `vector` columns of at most this many dimensions with HNSW.
HNSW_MAX_DIMS = 2000
_INDEX = "store_vectors_embedding_idx"


@dataclass(frozen=True)
class Embedded:
    """An item that has vectors, as it was read: what to embed again."""

    prefix: str
    key: str
    value: dict[str, Any]
    updated_at: datetime
    fields: list[str]

    def texts(self) -> list[tuple[str, str]]:
        """(field name, text) for each vector of the item's, as the put made them:
        a path's only text under its path, its n-th of several under `path.n`."""
        found = []
        for name in self.fields:
            texts = get_text_at_path(self.value, name)
            if len(texts) == 1:
                found.append((name, texts[0]))
                continue
            path, dot, number = name.rpartition(".")
            if dot and number.isdigit():
                texts = get_text_at_path(self.value, path)
                if int(number) < len(texts):
                    found.append((name, texts[int(number)]))
        return found


async def resize(pool: Pool, dims: int) -> int:
    """Retype the vector column to `dims`, emptying it, if it has another
    size; the size it had. Its HNSW index goes with it (`reindex_vectors`)."""
    stored = await vector_dims(pool)
    if stored == dims:
        return stored
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(f"DROP INDEX IF EXISTS {_INDEX}")
        await conn.execute(
            f"ALTER TABLE store_vectors ALTER COLUMN embedding TYPE vector({dims:d}) USING NULL"
        )
    return stored


async def index_vectors(pool: Pool, dims: int) -> bool:
    """The migration's HNSW index, again, where pgvector can build it."""
    if dims > HNSW_MAX_DIMS:
        return False
    async with pool.connection() as conn:
        await conn.execute(VECTOR_MIGRATIONS_V2[-1])
    return True


async def embedded_items(pool: Pool) -> int:
    async with pool.connection() as conn:
        row = await (
            await conn.execute("SELECT count(*) AS n FROM (SELECT DISTINCT prefix, key FROM store_vectors) v")
        ).fetchone()
    return int(row["n"]) if row else 0


async def next_items(pool: Pool, after: tuple[str, str], size: int) -> list[Embedded]:
    """Up to `size` items with vectors after (prefix, key) `after`, in key order."""
    query = """
        SELECT s.prefix, s.key, s.value, s.updated_at, array_agg(v.field_name ORDER BY v.field_name) AS fields
          FROM store s
          JOIN store_vectors v ON v.prefix = s.prefix AND v.key = s.key
         WHERE (s.prefix, s.key) > (%s, %s)
         GROUP BY s.prefix, s.key
         ORDER BY s.prefix, s.key
         LIMIT %s
    """
    async with pool.connection() as conn:
        rows = await (await conn.execute(query, [*after, size])).fetchall()
    return [Embedded(r["prefix"], r["key"], r["value"], r["updated_at"], list(r["fields"])) for r in rows]


async def write_vectors(
    pool: Pool, items: list[Embedded], rows: list[tuple[str, str, str, list[float]]]
) -> int:
    """The new vectors `rows` (prefix, key, field, vector) of the items still
    as they were read, in one transaction; how many items were written."""
    async with pool.connection() as conn, conn.transaction():
        locked = await (
            await conn.execute(
                """
                SELECT s.prefix, s.key FROM store s
                  JOIN unnest(%s::text[], %s::text[], %s::timestamptz[]) AS r(prefix, key, updated_at)
                    ON s.prefix = r.prefix AND s.key = r.key AND s.updated_at = r.updated_at
                   FOR UPDATE OF s
                """,
                [[i.prefix for i in items], [i.key for i in items], [i.updated_at for i in items]],
            )
        ).fetchall()
        unchanged = {(row["prefix"], row["key"]) for row in locked}
        kept = [row for row in rows if (row[0], row[1]) in unchanged]
        await conn.execute(
            """
            UPDATE store_vectors v SET embedding = r.embedding::vector, updated_at = now()
              FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[])
                   AS r(prefix, key, field_name, embedding)
             WHERE v.prefix = r.prefix AND v.key = r.key AND v.field_name = r.field_name
            """,
            [
                [p for p, *_ in kept],
                [k for _, k, *_ in kept],
                [f for _, _, f, _ in kept],
                [vector_text(e) for *_, e in kept],
            ],
        )
    return len(unchanged)
