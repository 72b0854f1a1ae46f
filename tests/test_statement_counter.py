"""The benchmark's statement counter counts what the server is sent, by message."""

import asyncpg
import psycopg
from benchmarks.statement_counter import counter_for
from sqlalchemy.engine import make_url

from app.config import psycopg_conninfo


async def test_simple_queries_and_executes_of_both_drivers(database_url: str) -> None:
    counter = counter_for(database_url)
    async with counter.serving():
        url = counter.url(database_url)
        async with await psycopg.AsyncConnection.connect(psycopg_conninfo(url), autocommit=True) as conn:
            await conn.execute("SELECT 1")  # no parameters: a simple query
            await conn.execute("SELECT %s::int", (2,))  # Parse, Bind, Execute, Sync
        dsn = make_url(url).set(drivername="postgresql", query={"sslmode": "disable"})
        conn2 = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        try:
            await conn2.execute("SELECT 1; SELECT 2")  # one simple query
            await conn2.fetchval("SELECT $1::int", 3)  # prepared, then executed
        finally:
            await conn2.close()
    # Each call is one statement, whichever protocol carried it; connecting sent none.
    assert (counter.messages[b"Q"], counter.messages[b"E"]) == (2, 2)
    assert counter.statements == 4
