"""The one retry policy of the persistence layer.

Transient faults are recognised by SQLSTATE and by driver exception type,
never by message text. Only operations that are safe to run twice may be
wrapped: reads, and the saver's idempotent upserts.
"""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
import psycopg
import psycopg_pool
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyPoolTimeout

from app.config import PersistenceConfig
from app.services.persistence.metrics import DB_OUTAGES, DB_RETRIES

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Class 08 (connection exception), 57P01-03 (admin shutdown, crash shutdown,
# cannot connect now), 53300 (too many connections), 40001 (serialization
# failure), 40P01 (deadlock detected).
_TRANSIENT_SQLSTATE_CLASSES = ("08",)
_TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300", "40001", "40P01"})
# A prepared statement missing (26000), already there (42P05), or a bind that
# reached another client's statement (08P01): a pooler in transaction mode
# moved us to another server connection. The saver turns prepared statements
# off when it sees one, so trying again succeeds.
PREPARED_STATEMENT_FAULTS = frozenset({"26000", "42P05", "08P01"})


def _sqlstate(exc: BaseException) -> str | None:
    if isinstance(exc, psycopg.Error):
        return exc.sqlstate
    if isinstance(exc, asyncpg.PostgresError):
        return str(exc.sqlstate)
    # SQLAlchemy's asyncpg adapter raises an error of its own, the driver's as its cause.
    if isinstance(exc.__cause__, asyncpg.PostgresError):
        return str(exc.__cause__.sqlstate)
    return None


def is_transient(exc: BaseException) -> bool:
    """Whether trying the same operation again may succeed."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        return exc.orig is not None and is_transient(exc.orig)
    sqlstate = _sqlstate(exc)
    if sqlstate is not None:
        return (
            sqlstate in _TRANSIENT_SQLSTATES
            or sqlstate in PREPARED_STATEMENT_FAULTS
            or sqlstate.startswith(_TRANSIENT_SQLSTATE_CLASSES)
        )

    # A psycopg OperationalError without SQLSTATE is a lost or refused
    # connection; either pool timing out (all connections busy) passes too.
    return isinstance(
        exc,
        psycopg.OperationalError
        | psycopg_pool.PoolTimeout
        | psycopg_pool.PoolClosed
        | SQLAlchemyPoolTimeout
        | asyncpg.InterfaceError
        | ConnectionError
        | TimeoutError,
    )


_DATABASE_ERRORS = (
    psycopg.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    DBAPIError,
    psycopg_pool.PoolTimeout,
    psycopg_pool.PoolClosed,
    SQLAlchemyPoolTimeout,
)


def is_database_error(exc: BaseException) -> bool:
    """Raised by a database driver or pool, transient or not."""
    return isinstance(exc, _DATABASE_ERRORS)


def is_database_outage(exc: BaseException) -> bool:
    """A transient fault raised by a database driver or pool, not by anything
    else that talks over the network (a model provider, say)."""
    return isinstance(exc, _DATABASE_ERRORS) and is_transient(exc)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0

    @classmethod
    def from_config(cls, config: PersistenceConfig) -> "RetryPolicy":
        return cls(config.retry_attempts, config.retry_base_delay, config.retry_max_delay)

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so retrying clients spread out."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))  # noqa: S311

    async def run(self, operation: Callable[[], Awaitable[T]], *, what: str) -> T:
        """Await `operation()`, again after a transient fault, up to `attempts` times."""
        for attempt in range(self.attempts):
            try:
                return await operation()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if attempt == self.attempts - 1:
                    DB_OUTAGES.labels(what).inc()
                    raise
                DB_RETRIES.labels(what).inc()
                pause = self.delay(attempt)
                logger.warning(
                    "%s failed (%s: %s); retry %d/%d in %.2fs",
                    what,
                    type(exc).__name__,
                    exc,
                    attempt + 1,
                    self.attempts - 1,
                    pause,
                )
                await asyncio.sleep(pause)
        raise AssertionError("unreachable: the last attempt returns or raises")
