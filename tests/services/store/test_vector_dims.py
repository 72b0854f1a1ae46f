"""Vectors of another size than the model makes: the store refuses to start,
one clear error, never a ranking by a wrong distance; an empty vector column
of another size (a model of its own, on a new database) is retyped."""

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.config import PersistenceConfig, StoreSettings, psycopg_conninfo
from app.db.migrate import upgrade_to_head
from app.services.persistence.pool import build_pool
from app.services.store import AppStore
from app.services.store.errors import VectorsMismatch
from tests.database import drop_database, recreate_database, scratch_name
from tests.factories import new_user


@pytest.fixture
async def migrated(test_server_url: str) -> AsyncIterator[str]:
    url = await recreate_database(test_server_url, scratch_name("store-dims"))
    await asyncio.to_thread(upgrade_to_head, url)
    yield url
    await drop_database(test_server_url, scratch_name("store-dims"))


async def _vector_column(url: str, dims: int | None = None) -> int | None:
    """The vector column's size, set to `dims` first if given; None without pgvector."""
    async with await psycopg.AsyncConnection.connect(psycopg_conninfo(url), autocommit=True) as conn:
        found = await (await conn.execute("SELECT to_regclass('store_vectors')")).fetchone()
        if found is None or found[0] is None:
            return None
        if dims is not None:
            await conn.execute("DROP INDEX IF EXISTS store_vectors_embedding_idx")
            await conn.execute(
                f"ALTER TABLE store_vectors ALTER COLUMN embedding TYPE vector({dims}) USING NULL"
            )
        query = (
            "SELECT atttypmod FROM pg_attribute"
            " WHERE attrelid = 'store_vectors'::regclass AND attname = 'embedding'"
        )
        row = await (await conn.execute(query)).fetchone()
        return int(row[0]) if row else None


async def _a_user(url: str) -> str:
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine)() as session:
            user = new_user()
            session.add(user)
            await session.flush()
            user_id = str(user.id)
            await session.commit()
            return user_id
    finally:
        await engine.dispose()


async def test_vectors_of_another_size_stop_the_start(migrated: str) -> None:
    pool = build_pool(psycopg_conninfo(migrated), PersistenceConfig())
    await pool.open()
    store = AppStore(pool, StoreSettings())
    try:
        if await _vector_column(migrated) is None:
            pytest.skip("the server has no pgvector: there are no vectors to mismatch")
        await store.open()
        await store.for_user(await _a_user(migrated)).aput(("notes",), "fruit", {"text": "apples"})
        await _vector_column(migrated, 3)  # as another model would have left them
        again = AppStore(pool, StoreSettings())
        with pytest.raises(VectorsMismatch, match="3-dimension vectors and the embedding model makes 256"):
            await again.open()
        # Told to search without vectors, it starts.
        plain = AppStore(pool, StoreSettings(embeddings="none"))
        await plain.open()
        await plain.close()
    finally:
        await store.close()
        await pool.close()


async def test_an_empty_vector_column_takes_the_models_size(migrated: str) -> None:
    # The memory-agent template's langgraph.json asks for 1536 on a new database: it starts.
    if await _vector_column(migrated, 3) is None:
        pytest.skip("the server has no pgvector: there is no vector column")
    pool = build_pool(psycopg_conninfo(migrated), PersistenceConfig())
    await pool.open()
    store = AppStore(pool, StoreSettings())
    try:
        await store.open()
        assert await _vector_column(migrated) == 256
        async with pool.connection() as conn:
            index = await (await conn.execute("SELECT to_regclass('store_vectors_embedding_idx')")).fetchone()
        assert index is not None
        assert index["to_regclass"] is not None
    finally:
        await store.close()
        await pool.close()
