"""MessageCheckpointer: the one LangGraph saver every agent compiles its graph with.

It owns a psycopg pool and a `PooledPostgresSaver` on it; start-up is retried
with backoff, the schema is verified (Alembic owns it), and shutdown is
bounded in time. With `PERSISTENCE_FALLBACK=memory` an unreachable database
degrades to LangGraph's in-memory saver instead of stopping the app.
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import pool as sa_pool
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import PersistenceConfig, get_persistence_config, psycopg_conninfo, sqlalchemy_url
from app.config.dsn import parse_database_url
from app.errors import first_line
from app.services.persistence.errors import DatabaseRefused, DatabaseUnavailable, PersistenceError
from app.services.persistence.pool import SaverPool, build_pool
from app.services.persistence.retention import Rebase, ThreadPruner
from app.services.persistence.retry import RetryPolicy, is_transient
from app.services.persistence.saver import PooledPostgresSaver
from app.services.persistence.schema_status import verify_schema
from app.services.persistence.sweeps import Sweep, beyond_newest, older_than, run_sweep

logger = logging.getLogger(__name__)

Backend = Literal["postgres", "memory"]

_FIND_THREAD_SQL = "SELECT thread_id, checkpoint_ns FROM checkpoints WHERE checkpoint_id = %s LIMIT 1"

_FORGET_TOMBSTONES_SQL = """
DELETE FROM deleted_threads WHERE deleted_at < now() - make_interval(days => %s)
"""


def describe_server(db_url: str) -> str:
    """`host:port/db` for messages, without the password."""
    url = parse_database_url(db_url)
    host = url.host or url.query.get("host") or "localhost"
    return f"{host}:{url.port or 5432}/{url.database or ''}"


class MessageCheckpointer:
    """Pool + saver lifecycle, retries and health for LangGraph checkpoints."""

    def __init__(self, db_url: str, config: PersistenceConfig | None = None) -> None:
        self.db_url = db_url
        self.config = config or get_persistence_config()
        self.retry = RetryPolicy.from_config(self.config)
        self.backend: Backend | None = None
        self.schema_revision: str | None = None
        self.degraded_reason: str | None = None
        # Set by the app when it knows the graph: lets retention give the oldest
        # kept checkpoint a DeltaChannel snapshot instead of keeping older ones.
        self.rebase: Rebase | None = None
        self._pool: SaverPool | None = None
        self._saver: BaseCheckpointSaver[Any] | None = None
        self._lock = asyncio.Lock()

    @property
    def pool(self) -> SaverPool | None:
        return self._pool

    async def initialize(self) -> None:
        """Verify the database and open the pool, retrying transient faults.

        Raises DatabaseUnavailable when the database stays unreachable (unless
        the fallback is `memory`) and SchemaNotMigrated when it is reachable
        but not at Alembic's head. Calling it again is a no-op.
        """
        async with self._lock:
            if self._saver is not None:
                return
            try:
                self._saver = await self._open_postgres()
                self.backend = "postgres"
            except DatabaseUnavailable as exc:
                if self.config.fallback != "memory":
                    raise
                self.degraded_reason = str(exc)
                logger.warning("%s; running on an in-memory saver: history will not survive a restart", exc)
                self._saver = InMemorySaver()
                self.backend = "memory"

    async def _open_postgres(self) -> PooledPostgresSaver:
        where = describe_server(self.db_url)
        try:
            self.schema_revision = await self.retry.run(self._probe, what=f"connecting to {where}")
            self._pool = await self.retry.run(self._open_pool, what=f"opening the saver pool to {where}")
        except PersistenceError:
            raise
        except Exception as exc:
            cause = first_line(exc)
            if is_transient(exc):
                raise DatabaseUnavailable(f"PostgreSQL at {where} is unreachable: {cause}") from exc
            raise DatabaseRefused(f"PostgreSQL at {where} refused the connection: {cause}") from exc
        return PooledPostgresSaver(self._pool, retry=self.retry)

    async def _probe(self) -> str:
        """Connect once and check the schema.

        asyncpg reports SQLSTATE for failures while connecting (bad password,
        missing database), psycopg does not, so the probe tells a permanent
        fault from a transient one before the pool starts retrying blindly.
        """
        url, connect_args = sqlalchemy_url(self.db_url)
        connect_args = {**connect_args, "timeout": self.config.connect_timeout}
        engine = create_async_engine(url, connect_args=connect_args, poolclass=sa_pool.NullPool)
        try:
            async with engine.connect() as conn:
                return await verify_schema(conn)
        finally:
            await engine.dispose()

    async def _open_pool(self) -> SaverPool:
        pool = build_pool(psycopg_conninfo(self.db_url), self.config)
        try:
            await pool.open(wait=True, timeout=self.config.pool_timeout)
        except BaseException:
            await pool.close()
            raise
        return pool

    async def get_saver(self) -> BaseCheckpointSaver[Any]:
        """The saver to compile graphs with, initialising on first use."""
        if self._saver is None:
            await self.initialize()
        assert self._saver is not None  # noqa: S101 - initialize() sets it or raises
        return self._saver

    async def setup_tables(self) -> None:
        """Check the schema is at Alembic's head; Alembic, not the saver, creates it.

        The saver's own `setup()` would create LangGraph's tables without the
        ownership columns and triggers, so it is never called here.
        """
        if self.backend == "memory":
            return
        self.schema_revision = await self.retry.run(self._probe, what="checking the schema")

    async def cleanup(self) -> None:
        """Close the pool, waiting at most PERSISTENCE_CHECKPOINTER_CLEANUP_TIMEOUT."""
        async with self._lock:
            pool, self._pool, self._saver, self.backend = self._pool, None, None, None
            if pool is not None:
                await pool.close(timeout=self.config.checkpointer_cleanup_timeout)

    async def get_checkpoint(
        self, checkpoint_id: str, thread_id: str | None = None
    ) -> CheckpointTuple | None:
        """A checkpoint by id; its thread is looked up when not given."""
        saver = await self.get_saver()
        namespace = ""
        if thread_id is None:
            found = await self._find_thread(checkpoint_id)
            if found is None:
                return None
            thread_id, namespace = found
        config: RunnableConfig = {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": namespace,
                "checkpoint_id": checkpoint_id,
            }
        }
        return await saver.aget_tuple(config)

    async def _find_thread(self, checkpoint_id: str) -> tuple[str, str] | None:
        if self._pool is None:
            async for found in (await self.get_saver()).alist(None):
                if found.config["configurable"]["checkpoint_id"] == checkpoint_id:
                    return found.config["configurable"]["thread_id"], found.config["configurable"][
                        "checkpoint_ns"
                    ]
            return None
        pool = self._pool

        async def lookup() -> tuple[str, str] | None:
            async with pool.connection() as conn:
                row = await (await conn.execute(_FIND_THREAD_SQL, (checkpoint_id,))).fetchone()
            return None if row is None else (row["thread_id"], row["checkpoint_ns"])

        return await self.retry.run(lookup, what="looking up a checkpoint")

    async def list_checkpoints(
        self, limit: int = 10, thread_id: str | None = None, before: str | None = None
    ) -> list[CheckpointTuple]:
        """The newest checkpoints, of one thread or of all, newest first."""
        saver = await self.get_saver()
        config: RunnableConfig | None = (
            {"configurable": {"thread_id": thread_id}} if thread_id is not None else None
        )
        before_config: RunnableConfig | None = (
            {"configurable": {"checkpoint_id": before}} if before is not None else None
        )

        async def fetch() -> list[CheckpointTuple]:
            return [t async for t in saver.alist(config, limit=limit, before=before_config)]

        return await self.retry.run(fetch, what="listing checkpoints")

    async def delete_old_checkpoints(self, days: float = 30) -> int:
        """Delete checkpoints older than `days`, never what a thread's latest state needs."""
        if days < 0:
            raise ValueError("days must not be negative")
        return await self._sweep(
            older_than(datetime.now(UTC) - timedelta(days=days)), f"older than {days} days"
        )

    async def enforce_max_history(self, keep: int | None = None, *, limit: int | None = None) -> int:
        """Keep the newest `keep` (default PERSISTENCE_MAX_CHECKPOINT_HISTORY) checkpoints per thread."""
        keep = keep or self.config.max_checkpoint_history
        return await self._sweep(beyond_newest(keep), f"beyond the newest {keep}", limit=limit)

    async def forget_tombstones(self, days: int) -> int:
        """Forget the threads deleted over `days` ago: the triggers that keep a
        late checkpoint of a deleted thread out (`migrations.py`) need a
        tombstone only while a run may still be writing."""
        if self._pool is None:
            return 0
        async with self._pool.connection() as conn:
            return (await conn.execute(_FORGET_TOMBSTONES_SQL, (days,))).rowcount

    def pruner(self) -> ThreadPruner:
        if self._saver is None:
            raise RuntimeError("initialize() the MessageCheckpointer first")
        return ThreadPruner(self._saver.serde, self.rebase)

    async def _sweep(self, sweep: Sweep, what: str, *, limit: int | None = None) -> int:
        await self.get_saver()
        if self._pool is None:
            logger.info("in-memory saver: nothing is kept across restarts, nothing to delete")
            return 0
        report = await run_sweep(self._pool, self.pruner(), sweep, limit=limit)
        logger.info(
            "deleted %d checkpoint(s) %s; %d thread(s) could not be pruned (each logged with why)",
            report.deleted,
            what,
            len(report.not_pruned),
        )
        return report.deleted

    async def health(self) -> dict[str, Any]:
        """Backend, reachability and pool counters, for /health/ready."""
        report: dict[str, Any] = {"backend": self.backend, "schema_revision": self.schema_revision}
        if self.degraded_reason:
            report["degraded_reason"] = self.degraded_reason
        if self._pool is None:
            report["database"] = "not connected"
            return report
        stats = self._pool.get_stats()
        report["pool"] = {
            "size": stats.get("pool_size", 0),
            "idle": stats.get("pool_available", 0),
            "waiting": stats.get("requests_waiting", 0),
            "max": self._pool.max_size,
        }
        try:
            async with self._pool.connection(timeout=self.config.connect_timeout) as conn:
                await conn.execute("SELECT 1")
        except Exception as exc:
            if not is_transient(exc):
                raise
            report["database"] = f"unreachable: {type(exc).__name__}"
        else:
            report["database"] = "ok"
        return report
