"""The benchmark's database: BENCH_DATABASE_URL, or the embedded server."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from app.config import sqlalchemy_url
from app.db.embedded import start_embedded_postgres
from app.db.migrate import upgrade_to_head

DATA_DIR = Path(__file__).resolve().parents[1] / ".data" / "bench"
DATABASE = "surfsense_bench"


def server_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or start_embedded_postgres(DATA_DIR, database="postgres")


async def fresh_database(server: str) -> str:
    """A new, migrated benchmark database on the server; its URL."""
    target = await recreated(server, DATABASE)
    await asyncio.to_thread(upgrade_to_head, target)
    return target


async def recreated(server: str, database: str) -> str:
    """`database` dropped and created empty on the server; its URL."""
    url, _ = sqlalchemy_url(server)
    conn = await asyncpg.connect(
        host=url.host or url.query.get("host"),
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    return make_url(server).set(database=database).render_as_string(hide_password=False)


@contextmanager
def behind_latency(database_url: str, one_way_ms: float) -> Iterator[str]:
    """The database's URL through `benchmarks.latency_proxy`, running meanwhile."""
    url, _ = sqlalchemy_url(database_url)
    target = str(url.host or url.query.get("host"))
    proxy = subprocess.Popen(  # noqa: S603 - our own module, our own arguments
        [sys.executable, "-m", "benchmarks.latency_proxy", target, str(url.port or 5432), str(one_way_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proxy.stdout is not None  # stdout=PIPE
        port = int(proxy.stdout.readline())
        distant = make_url(database_url).difference_update_query(["host"]).set(host="127.0.0.1", port=port)
        yield distant.render_as_string(hide_password=False)
    finally:
        proxy.terminate()
        proxy.wait()
