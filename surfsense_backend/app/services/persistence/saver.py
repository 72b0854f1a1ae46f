"""LangGraph's Postgres saver without its instance-wide lock, and with the
whole saver contract: copy_thread, delete_for_runs, and prune for threads
that use a DeltaChannel.

`AsyncPostgresSaver._cursor` takes `self.lock` around every call, which is
needed when the saver shares one connection but serialises all callers when
it runs on a pool: upstream measured 199 against 1,295 requests/s. On a pool
each call checks out a connection of its own, which psycopg never shares, so
the lock protects nothing there. The stock queries stay, but for two reads
whose cost grew with the thread (`saver_reads`, `delta_history`); small values
are encoded and decoded on the event loop, large ones in a thread
(`inline_serde`). It is built as the stock saver is (a pool or one
connection, `pipe`, `serde`, `from_conn_string`) and changes nothing outside
its own objects.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from typing import Any, TypeVar

import psycopg
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
    get_serializable_checkpoint_metadata,
)
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.postgres.base import PRUNE_DELTA_THREADS_SQL, PRUNE_STRATEGIES
from langgraph.checkpoint.serde.base import SerializerProtocol
from psycopg import AsyncCursor, AsyncPipeline
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from app.errors import first_line
from app.services.persistence import primed_reads
from app.services.persistence.checkpoint_metadata import without_client_values
from app.services.persistence.delta_history import delta_history_rows
from app.services.persistence.errors import ThreadsNotPruned
from app.services.persistence.inline_serde import fits_inline, row_fits_inline, split_channel_values
from app.services.persistence.metrics import CHECKPOINT_SECONDS
from app.services.persistence.retention import ThreadPruner, keep_latest
from app.services.persistence.retry import PREPARED_STATEMENT_FAULTS, RetryPolicy
from app.services.persistence.saver_reads import SELECT_SQL
from app.services.persistence.thread_copy import psycopg_copy_statements
from app.services.persistence.upstream import HookedAsyncPostgresSaver, decode_checkpoint_row

logger = logging.getLogger(__name__)

T = TypeVar("T")

_COPY_WHOLE_THREAD = psycopg_copy_statements(until=False)

# No index serves metadata->>'run_id': an operator's clean-up, not a hot path.
_CHECKPOINTS_OF_RUNS_SQL = """
SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints WHERE metadata ->> 'run_id' = ANY(%s)
"""


class PooledPostgresSaver(HookedAsyncPostgresSaver):
    """`AsyncPostgresSaver` that takes no lock on a pool, implements every
    capability, and retries what is safe to run twice: reads, and the
    checkpoint and write upserts, which store the same rows however often they run."""

    SELECT_SQL = SELECT_SQL

    def __init__(
        self,
        conn: Any,
        pipe: AsyncPipeline | None = None,
        serde: SerializerProtocol | None = None,
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(conn, pipe, serde)
        self.retry = retry or RetryPolicy()
        self.prepared_statements_disabled = False

    def _disable_prepared_statements(self, exc: psycopg.Error) -> None:
        """Behind a transaction pooler a prepared statement may run on a server
        connection where another client's statement has its name: stop
        preparing, on every connection of the pool, for good."""
        if not self.prepared_statements_disabled:
            logger.error(
                "prepared statements fail here (%s: %s): a pooler in transaction mode (PgBouncer?) sits "
                "in front of the database; turning them off. Leave PERSISTENCE_PREPARE_THRESHOLD empty.",
                exc.sqlstate,
                first_line(exc),
            )
        self.prepared_statements_disabled = True
        # New connections: the pool's connect arguments (a dict, as pool.py builds them).
        if isinstance(self.conn, AsyncConnectionPool) and isinstance(self.conn.kwargs, dict):
            self.conn.kwargs["prepare_threshold"] = None

    async def _timed(self, operation: Callable[[], Awaitable[T]], *, what: str) -> T:
        with CHECKPOINT_SECONDS.labels(what).time():
            return await self.retry.run(operation, what=what)

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """The stock aput, encoding the changed blobs on the loop when they are
        small; its metadata without a client's configurable values."""
        self._writing(config)
        config = without_client_values(config)
        row, blobs = split_channel_values(checkpoint)
        changed = {channel: version for channel, version in new_versions.items() if channel in blobs}
        if not fits_inline(blobs[channel] for channel in changed):
            return await self._timed(
                lambda: super(PooledPostgresSaver, self).aput(config, checkpoint, metadata, new_versions),
                what="saving a checkpoint",
            )
        configurable = config["configurable"]
        thread_id, ns = configurable["thread_id"], configurable["checkpoint_ns"]
        blob_rows = self.dump_blobs(thread_id, ns, blobs, changed)
        meta = get_serializable_checkpoint_metadata(config, metadata)
        params = (thread_id, ns, checkpoint["id"], configurable.get("checkpoint_id"), Jsonb(row), Jsonb(meta))

        async def save() -> None:
            # A pipeline saves a round trip for two statements; for one it
            # only costs CPU (60-90 us a call through psycopg, measured).
            async with self.cursor(pipeline=bool(blob_rows)) as cur:
                if blob_rows:
                    await cur.executemany(self.UPSERT_CHECKPOINT_BLOBS_SQL, blob_rows)
                await cur.execute(self.UPSERT_CHECKPOINTS_SQL, params)

        await self._timed(save, what="saving a checkpoint")
        return {
            "configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint["id"]}
        }

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        """The stock aput_writes, encoding the writes on the loop when they are small."""
        self._writing(config)
        if not fits_inline(value for _, value in writes):
            await self._timed(
                lambda: super(PooledPostgresSaver, self).aput_writes(config, writes, task_id, task_path),
                what="saving writes",
            )
            return
        configurable = config["configurable"]
        ids = (configurable["thread_id"], configurable["checkpoint_ns"], configurable["checkpoint_id"])
        rows = self.dump_writes(*ids, task_id, task_path, writes)
        upsert = all(channel in WRITES_IDX_MAP for channel, _ in writes)
        query = self.UPSERT_CHECKPOINT_WRITES_SQL if upsert else self.INSERT_CHECKPOINT_WRITES_SQL

        async def save() -> None:
            async with self.cursor(pipeline=len(rows) > 1) as cur:
                if len(rows) == 1:
                    await cur.execute(query, rows[0])
                else:
                    await cur.executemany(query, rows)

        await self._timed(save, what="saving writes")

    async def load_checkpoint_tuple(self, value: DictRow) -> CheckpointTuple:
        """A row decoded on the loop when it is small, in a thread when it is
        large (the stock method decodes its blobs on the loop whatever their size)."""
        if (read := primed_reads.recorded()) is not None and read.keeping_row:
            read.keep_row(value)
        if row_fits_inline(value):
            return decode_checkpoint_row(self, value)
        return await asyncio.to_thread(decode_checkpoint_row, self, value)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The stock read, but a run's first read of the state its admission
        read, which is answered from that (`primed_reads`)."""
        primed = primed_reads.primed()
        if primed is not None and primed.answers_checkpoint(self, config):
            return None if primed.row is None else await self.load_checkpoint_tuple(primed.row)

        def stock() -> Awaitable[CheckpointTuple | None]:
            return super(PooledPostgresSaver, self).aget_tuple(config)

        read = primed_reads.recorded()
        if read is None or not read.records_checkpoint(self, config):
            return await self._timed(stock, what="loading a checkpoint")
        read.keeping_row = True
        try:
            found = await self._timed(stock, what="loading a checkpoint")
        finally:
            read.keeping_row = False
        read.checkpoint_recorded()
        return found

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        # The stock saver reads every row before yielding one, so retrying the
        # whole read costs nothing extra and never yields a row twice.
        async def read() -> list[CheckpointTuple]:
            stock = AsyncPostgresSaver.alist(self, config, filter=filter, before=before, limit=limit)
            return [found async for found in stock]

        for found in await self._timed(read, what="listing checkpoints"):
            yield found

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        if not channels:
            return {}
        primed = primed_reads.primed()
        if primed is not None and (history := primed.answers_history(self, config, channels)) is not None:
            return history.build(self)
        read = primed_reads.recorded()
        keep = read.keep_history if read is not None and read.records_history(self, config) else None

        async def load() -> Mapping[str, DeltaChannelHistory]:
            rows = await delta_history_rows(self, config, channels)
            if keep is not None:
                keep(rows)
            return rows.build(self)

        return await self._timed(load, what="loading channel history")

    def recording(
        self, thread_id: str, checkpoint_id: str | None
    ) -> AbstractContextManager[primed_reads.StateRead]:
        """Keep what this saver reads of the thread's root state at
        `checkpoint_id` (None: the latest) within the block, for `prime`."""
        return primed_reads.recording(self, thread_id, checkpoint_id)

    @staticmethod
    def prime(read: primed_reads.StateRead) -> None:
        """Answer this task's run's first read of `read`'s state from it."""
        primed_reads.prime(read)

    def _writing(self, config: RunnableConfig) -> None:
        if (primed := primed_reads.primed()) is not None:
            primed.written(self, config)

    @asynccontextmanager
    async def cursor(self, *, pipeline: bool = False) -> AsyncIterator[AsyncCursor[DictRow]]:
        if not isinstance(self.conn, AsyncConnectionPool):
            # One shared connection: the stock lock is what keeps it safe.
            async with super().cursor(pipeline=pipeline) as cur:
                yield cur
            return
        async with self.conn.connection() as conn:
            if self.prepared_statements_disabled:
                conn.prepare_threshold = None
            try:
                async with self._pooled_cursor(conn, pipeline=pipeline) as cur:
                    yield cur
            except psycopg.Error as exc:
                if exc.sqlstate in PREPARED_STATEMENT_FAULTS:
                    self._disable_prepared_statements(exc)
                    conn.prepare_threshold = None
                raise

    @asynccontextmanager
    async def _pooled_cursor(
        self, conn: psycopg.AsyncConnection[DictRow], *, pipeline: bool
    ) -> AsyncIterator[AsyncCursor[DictRow]]:
        if not pipeline:
            async with conn.cursor(binary=True, row_factory=dict_row) as cur:
                yield cur
        elif self.supports_pipeline:
            async with conn.pipeline(), conn.cursor(binary=True, row_factory=dict_row) as cur:
                yield cur
        else:
            async with conn.transaction(), conn.cursor(binary=True, row_factory=dict_row) as cur:
                yield cur

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint, write and blob of a thread, in one transaction."""
        params = {"source": str(source_thread_id), "target": str(target_thread_id), "until": None}
        async with self.cursor() as cur, cur.connection.transaction():
            for statement in _COPY_WHOLE_THREAD:
                await cur.execute(statement, params)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints the runs saved, their writes, and blobs only they used."""
        if isinstance(run_ids, str):
            raise TypeError("run_ids must be a sequence of run IDs, not a str")
        if not run_ids:
            return
        async with self.cursor() as cur:
            await cur.execute(_CHECKPOINTS_OF_RUNS_SQL, ([str(r) for r in run_ids],))
            groups: dict[tuple[str, str], list[str]] = defaultdict(list)
            for row in await cur.fetchall():
                groups[(row["thread_id"], row["checkpoint_ns"])].append(row["checkpoint_id"])
            pruner = ThreadPruner(self.serde)
            for (thread_id, ns), ids in groups.items():
                await pruner.delete(cur.connection, thread_id, ns, ids)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """The stock prune, and for threads whose latest state is rebuilt from
        older checkpoints (DeltaChannels, which it refuses, and those it cannot
        tell are: no counters in their metadata) a keep_latest that keeps the
        latest checkpoint and every ancestor its state is rebuilt from.

        Raises ThreadsNotPruned, after pruning the others, naming each thread
        whose rows could not be read and why; those are left as they were.
        """
        if isinstance(thread_ids, str):
            raise TypeError("thread_ids must be a sequence of thread IDs, not a str")
        if strategy not in PRUNE_STRATEGIES:
            raise ValueError(f"Unknown prune strategy: {strategy!r}")
        ids = [str(t) for t in thread_ids]
        if strategy != "keep_latest" or not ids:
            await super().aprune(ids, strategy=strategy)
            return
        plain: list[str] = []
        not_pruned: dict[str, str] = {}
        async with self.cursor() as cur:
            await cur.execute(PRUNE_DELTA_THREADS_SQL, (ids, ids))
            delta = {row["thread_id"] for row in await cur.fetchall()}
            pruner = ThreadPruner(self.serde)
            for thread_id in ids:
                try:
                    if thread_id in delta or await pruner.rebuilds_from_ancestors(cur.connection, thread_id):
                        await pruner.prune(cur.connection, thread_id, keep_latest())
                    else:
                        plain.append(thread_id)
                except ThreadsNotPruned as exc:
                    logger.warning("%s", exc)
                    not_pruned.update(exc.reasons)
        # The stock prune stops at the first thread it cannot read: one call a thread.
        for thread_id in plain:
            try:
                await super().aprune([thread_id], strategy=strategy)
            except psycopg.DataError as exc:
                logger.warning("thread %s not pruned, left as it was: %s", thread_id, first_line(exc))
                not_pruned[thread_id] = first_line(exc)
        if not_pruned:
            raise ThreadsNotPruned(not_pruned)
