"""LangGraph's Postgres saver without its instance-wide lock.

`AsyncPostgresSaver._cursor` takes `self.lock` around every call, which is
needed when the saver shares one connection but serialises all callers when
it runs on a pool: upstream measured 199 against 1,295 requests/s. On a pool
each call checks out a connection of its own, which psycopg never shares, so
the lock protects nothing there. Every query and all the serialisation stay
the saver's own; only how a cursor is obtained changes.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool


class PooledPostgresSaver(AsyncPostgresSaver):
    """`AsyncPostgresSaver` that takes no lock when it runs on a pool."""

    @asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[AsyncCursor[DictRow]]:
        if not isinstance(self.conn, AsyncConnectionPool):
            # One shared connection: the stock lock is what keeps it safe.
            async with super()._cursor(pipeline=pipeline) as cur:
                yield cur
            return
        async with self.conn.connection() as conn:
            if not pipeline:
                async with conn.cursor(binary=True, row_factory=dict_row) as cur:
                    yield cur
            elif self.supports_pipeline:
                async with conn.pipeline(), conn.cursor(binary=True, row_factory=dict_row) as cur:
                    yield cur
            else:
                async with conn.transaction(), conn.cursor(binary=True, row_factory=dict_row) as cur:
                    yield cur
