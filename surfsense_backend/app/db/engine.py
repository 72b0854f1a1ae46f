"""The SQLAlchemy engine and session factory, and the URL they point at."""

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.config import Settings, sqlalchemy_url
from app.db.embedded import start_embedded_postgres


def resolve_database_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded server's URL when it is unset."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return start_embedded_postgres(settings.data_dir)


def create_engine(database_url: str, settings: Settings) -> AsyncEngine:
    url, connect_args = sqlalchemy_url(database_url, prepared_statements=settings.db_prepared_statements)

    engine = create_async_engine(
        url,
        connect_args=connect_args,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        # A connection the server closed is found at checkout (below), at no
        # cost: pool_pre_ping's BEGIN, ";" and ROLLBACK were three statements
        # and two round trips on every checkout.
        pool_pre_ping=False,
        # Errors and their logs name the statement, never its values: those are
        # emails, passwords' hashes and what people wrote.
        hide_parameters=True,
        pool_recycle=1800,
    )
    event.listen(engine.sync_engine.pool, "connect", _keep_alive)
    event.listen(engine.sync_engine.pool, "checkout", _discard_closed)
    return engine


# As the saver's libpq connections have them: a dead peer is noticed after
# about 80 s idle, not after the kernel's two hours.
_KEEPALIVES = ((socket.TCP_KEEPIDLE, 30), (socket.TCP_KEEPINTVL, 10), (socket.TCP_KEEPCNT, 5))


def _keep_alive(dbapi_connection: Any, record: Any) -> None:
    """TCP keepalives on a new connection (asyncpg sets none); unix sockets have none."""
    sock = dbapi_connection.driver_connection._transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in _KEEPALIVES:
        sock.setsockopt(socket.IPPROTO_TCP, option, value)


def _discard_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection that the server closed (a terminated backend, a
    restart, a proxy that hung up) is discarded before use, and the pool
    hands out another.

    asyncpg's transport is always read by the event loop, so the server's
    FATAL message and EOF have already closed the connection on our side by
    the time a request checks it out: a flag to read, not a query to send.
    One that died silently (a proxy or NAT that dropped it without a word)
    is found by the TCP keepalives `_keep_alive` sets.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def create_statement_sessionmaker(engine: AsyncEngine, *, direct: bool) -> async_sessionmaker[AsyncSession]:
    """Sessions for one statement, each its own unit of work (a poll, a
    lease renewal): on a `direct` connection alone, with no BEGIN and COMMIT
    around it.

    Not through PgBouncer in transaction mode: asyncpg sends a statement's
    Parse and its Bind each with a Sync of their own, and outside a
    transaction the pooler may hand the two to different server connections
    ("prepared statement does not exist"). So only when DB_PREPARED_STATEMENTS
    says the connection is direct; otherwise a short transaction, so a
    statement that writes runs in `session_scope` either way."""
    if direct:
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit when the body succeeds, roll back when it raises.

    The edge of a request or a background task; code inside only flushes.
    """
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
