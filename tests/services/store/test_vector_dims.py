"""Vectors of another size than the model makes: the store refuses to start,
one clear error, never a ranking by a wrong distance."""

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest

from app.config import PersistenceConfig, StoreSettings, psycopg_conninfo
from app.db.migrate import upgrade_to_head
from app.services.persistence.pool import build_pool
from app.services.store import AppStore
from app.services.store.errors import VectorsMismatch
from tests.database import drop_database, recreate_database, scratch_name


@pytest.fixture
async def migrated(test_server_url: str) -> AsyncIterator[str]:
    url = await recreate_database(test_server_url, scratch_name("store-dims"))
    await asyncio.to_thread(upgrade_to_head, url)
    yield url
    await drop_database(test_server_url, scratch_name("store-dims"))


async def test_vectors_of_another_size_stop_the_start(migrated: str) -> None:
    async with await psycopg.AsyncConnection.connect(psycopg_conninfo(migrated), autocommit=True) as conn:
        found = await (await conn.execute("SELECT to_regclass('store_vectors')")).fetchone()
        if found is None or found[0] is None:
            pytest.skip("the server has no pgvector: there are no vectors to mismatch")
        await conn.execute("DROP INDEX store_vectors_embedding_idx")
        await conn.execute("ALTER TABLE store_vectors ALTER COLUMN embedding TYPE vector(3)")
    pool = build_pool(psycopg_conninfo(migrated), PersistenceConfig())
    await pool.open()
    store = AppStore(pool, StoreSettings())
    try:
        with pytest.raises(VectorsMismatch, match="3-dimension vectors and the embedding model makes 256"):
            await store.open()
        # Told to search without vectors, it starts.
        plain = AppStore(pool, StoreSettings(embeddings="none"))
        await plain.open()
        await plain.close()
    finally:
        await store.close()
        await pool.close()
