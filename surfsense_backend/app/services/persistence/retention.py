"""Removing checkpoints a thread no longer needs, without breaking it.

A retention policy names the checkpoints it wants to keep (the newest N, those
newer than a cutoff, the latest). What is actually kept is those plus, for
every channel a kept checkpoint does not store a value of, the chain of
ancestors its value may be rebuilt from: back to the nearest checkpoint that
stores one (a blob or an inline value), the walk LangGraph's loader does for a
DeltaChannel. Which channels are DeltaChannels is the graph's to know, not the
saver's: threads written by LangGraph.js or other versions carry no per-channel
counters, and an empty blob looks the same for both kinds. So every unstored
channel is walked; for an ordinary channel that keeps a step or two more than
needed, never less. Given the graph's state (`Rebase`), the oldest kept
checkpoint first gets a snapshot of the channels its metadata names as
DeltaChannels, so nothing older is needed and exactly the policy's checkpoints
remain.

Every checkpoint kept, not only the ones the policy names, is loaded by
someone (state history, forks), so the ancestors are closed over: a
checkpoint kept because one channel of a newer one walks through it has its
own channels walked too. Two DeltaChannels that snapshot at different rates
otherwise keep ancestors whose other channel lost what it is rebuilt from.

A checkpoint's age is our `created_at` column, or on the schema the stock
saver's `setup()` makes, which has none, the checkpoint's own timestamp
(`ts`), read only by a policy that asks for ages.

A thread is pruned in one transaction, whole or not at all. One whose rows
cannot be read (a `ts` that is not a timestamp, a row that is not a
checkpoint) is left as it was and named, with why, in `ThreadsNotPruned`;
batches go on with the other threads and report it.

Deleted: the other checkpoints, their writes, and the blobs only they used
(never "blobs nobody refers to", which would race a put whose blobs commit
before its checkpoint).
"""

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from langgraph.checkpoint.serde.base import SerializerProtocol
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from app.errors import first_line
from app.services.persistence.errors import ThreadsNotPruned
from app.services.persistence.upstream import DeltaSnapshot

logger = logging.getLogger(__name__)

# Rebase(thread_id, checkpoint_ns, checkpoint_id) -> the channel values there.
Rebase = Callable[[str, str, str], Awaitable[dict[str, Any]]]
# Chooses, from a namespace's checkpoints (newest first), the ids to keep.
Policy = Callable[[Sequence["CheckpointRow"]], set[str]]

_ROWS_SQL = """
SELECT c.checkpoint_id, c.parent_checkpoint_id, {created_at} AS created_at,
       c.checkpoint -> 'channel_versions' AS versions,
       c.checkpoint -> 'channel_values' AS inline,
       coalesce(c.metadata -> 'counters_since_delta_snapshot', '{}'::jsonb) AS delta,
       ARRAY(
           SELECT v.key FROM jsonb_each_text(c.checkpoint -> 'channel_versions') AS v
           WHERE EXISTS (
               SELECT 1 FROM checkpoint_blobs b
               WHERE b.thread_id = c.thread_id AND b.checkpoint_ns = c.checkpoint_ns
                 AND b.channel = v.key AND b.version = v.value AND b.type <> 'empty'
           )
       ) AS blob_channels
FROM checkpoints c
WHERE c.thread_id = %s AND c.checkpoint_ns = %s
ORDER BY c.checkpoint_id DESC
"""

_HAS_CREATED_AT_SQL = """
SELECT EXISTS (
    SELECT 1 FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'checkpoints' AND column_name = 'created_at'
) AS present
"""

_NAMESPACES_SQL = "SELECT DISTINCT checkpoint_ns FROM checkpoints WHERE thread_id = %s"

_DELETE_SQL = """
DELETE FROM checkpoints
WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = ANY(%s)
RETURNING checkpoint -> 'channel_versions' AS versions
"""

_DELETE_WRITES_SQL = """
DELETE FROM checkpoint_writes
WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = ANY(%s)
"""

_UNLINK_PARENTS_SQL = """
UPDATE checkpoints SET parent_checkpoint_id = NULL
WHERE thread_id = %s AND checkpoint_ns = %s AND parent_checkpoint_id = ANY(%s)
"""

_REFERENCED_SQL = """
SELECT DISTINCT v.key AS channel, v.value AS version
FROM checkpoints c CROSS JOIN LATERAL jsonb_each_text(c.checkpoint -> 'channel_versions') AS v
WHERE c.thread_id = %s AND c.checkpoint_ns = %s
"""

_DELETE_BLOBS_SQL = """
DELETE FROM checkpoint_blobs
WHERE thread_id = %s AND checkpoint_ns = %s AND channel = %s AND version = ANY(%s)
"""

_WRITE_SNAPSHOT_SQL = """
INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (thread_id, checkpoint_ns, channel, version)
DO UPDATE SET type = EXCLUDED.type, blob = EXCLUDED.blob
"""

# The inline `true` marker is how the saver flags a snapshot kept as a blob.
_MARK_SNAPSHOT_SQL = """
UPDATE checkpoints SET checkpoint = jsonb_set(checkpoint, ARRAY['channel_values', %s], 'true'::jsonb)
WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = %s
"""


class UnreadableCheckpoint(ValueError):
    """A row retention cannot read as LangGraph wrote it."""


@dataclass
class CheckpointRow:
    checkpoint_id: str
    parent_id: str | None
    # Our `created_at`, or on the stock schema the checkpoint's `ts` as stored (see `age`).
    created_at: datetime | str | None
    versions: dict[str, str]
    # The channels its metadata counts as DeltaChannels (LangGraph's counters).
    delta_channels: set[str]
    # The channels it stores a value of when it is loaded itself: a blob or
    # any inline value, `null` included (the channel then loads as None).
    stored: set[str] = field(default_factory=set)
    # The channels an ancestor walk stops at: a blob or an inline value other
    # than `null`. LangGraph's walk reads a null as nothing stored (JSON null
    # and a missing key look alike to it) and goes on to older checkpoints.
    seeded: set[str] = field(default_factory=set)
    # The channels it holds a snapshot of (the inline `true` marker on a blob).
    snapshots: set[str] = field(default_factory=set)

    @classmethod
    def from_db(cls, row: DictRow) -> "CheckpointRow":
        inline = row["inline"] or {}
        blobs = set(row["blob_channels"])
        return cls(
            checkpoint_id=row["checkpoint_id"],
            parent_id=row["parent_checkpoint_id"],
            created_at=row["created_at"],
            versions={channel: str(version) for channel, version in (row["versions"] or {}).items()},
            delta_channels=set(row["delta"]),
            stored=blobs | set(inline),
            seeded=blobs | {channel for channel, value in inline.items() if value is not None},
            snapshots={channel for channel in blobs if inline.get(channel) is True},
        )

    @property
    def unstored(self) -> set[str]:
        """Channels with a version here but no value: empty, or rebuilt from ancestors."""
        return set(self.versions) - self.stored

    def age(self) -> datetime:
        """When it was saved; a `ts` that is not an ISO timestamp is UnreadableCheckpoint."""
        if isinstance(self.created_at, datetime):
            return self.created_at
        try:
            saved = datetime.fromisoformat(str(self.created_at))
        except ValueError:
            raise UnreadableCheckpoint(
                f"checkpoint {self.checkpoint_id} has ts {self.created_at!r}, not a timestamp"
            ) from None
        # LangGraph writes UTC; a ts without a zone is read as UTC too.
        return saved if saved.tzinfo is not None else saved.replace(tzinfo=UTC)


def known_delta_channels(rows: Sequence[CheckpointRow]) -> set[str]:
    """The channels the thread itself shows to be DeltaChannels (what may be snapshotted)."""
    return set().union(*(row.delta_channels | row.snapshots for row in rows))


def _internal(channel: str) -> bool:
    # LangGraph's own channels (START, the branch triggers, `__pregel_*`) are
    # plain channels whose emptiness is their value, never DeltaChannels.
    return channel.startswith(("__", "branch:"))


def rebuilt_channels(row: CheckpointRow) -> set[str]:
    """The channels of a checkpoint whose value LangGraph may rebuild from ancestors.

    Whether an unstored channel is an empty plain one or a DeltaChannel is
    the graph's to know: LangGraph's per-channel counters are missing from
    threads of LangGraph.js and other versions, and neither kind stores a
    value there. So every unstored channel but LangGraph's own is walked;
    for a plain one that keeps a checkpoint or two more than needed, never less.
    """
    return {channel for channel in row.unstored if not _internal(channel)}


def needed(rows: Sequence[CheckpointRow], keep: set[str]) -> set[str]:
    """`keep` and every ancestor a channel of a kept checkpoint is rebuilt
    from, the ancestors kept so included: every checkpoint that remains loads.

    As LangGraph's loader does for a DeltaChannel: a channel stored at the
    checkpoint itself, or with no version there, is not rebuilt; any other
    walks the parents from the checkpoint's parent to the first that seeds
    it (`CheckpointRow.seeded`), that one included.
    """
    by_id = {row.checkpoint_id: row for row in rows}
    needed_ids = set(keep) & by_id.keys()
    pending = list(needed_ids)
    # (channel, id): the walk for that channel passed there, so everything
    # from there back to the channel's seed is kept already.
    walked: set[tuple[str, str]] = set()
    while pending:
        row = by_id[pending.pop()]
        for channel in rebuilt_channels(row):
            ancestor = by_id.get(row.parent_id or "")
            while ancestor is not None and (channel, ancestor.checkpoint_id) not in walked:
                walked.add((channel, ancestor.checkpoint_id))
                if ancestor.checkpoint_id not in needed_ids:
                    needed_ids.add(ancestor.checkpoint_id)
                    pending.append(ancestor.checkpoint_id)
                if channel in ancestor.seeded:
                    break
                ancestor = by_id.get(ancestor.parent_id or "")
    return needed_ids


def _freed(deleted: Iterable[DictRow], referenced: set[tuple[str, str]]) -> dict[str, list[str]]:
    garbage: dict[str, set[str]] = defaultdict(set)
    for row in deleted:
        for channel, version in (row["versions"] or {}).items():
            # Versions may be JSON numbers; blob rows and jsonb_each_text hold text.
            if (channel, str(version)) not in referenced:
                garbage[channel].add(str(version))
    return {channel: sorted(versions) for channel, versions in garbage.items()}


@dataclass
class PruneReport:
    """What a batch of threads came to: checkpoints deleted, and the threads
    left as they were, each with why."""

    deleted: int = 0
    not_pruned: dict[str, str] = field(default_factory=dict)


class ThreadPruner:
    """Applies a policy to one thread at a time, each in its own transaction."""

    def __init__(self, serde: SerializerProtocol, rebase: Rebase | None = None) -> None:
        self.serde = serde
        self.rebase = rebase
        self._rows_sql: str | None = None

    async def plan(
        self, conn: AsyncConnection[DictRow], thread_id: str, policy: Policy
    ) -> dict[str, list[str]]:
        """The checkpoint ids the policy would delete, by namespace (nothing is changed)."""
        plan: dict[str, list[str]] = {}
        with _not_pruned_if_unreadable(thread_id):
            for ns in await self._namespaces(conn, thread_id):
                rows = await self._rows(conn, thread_id, ns)
                keep = needed(rows, policy(rows) if rows else set())
                if doomed := [row.checkpoint_id for row in rows if row.checkpoint_id not in keep]:
                    plan[ns] = doomed
        return plan

    async def rebuilds_from_ancestors(self, conn: AsyncConnection[DictRow], thread_id: str) -> bool:
        """Whether some namespace's latest state needs older checkpoints."""
        with _not_pruned_if_unreadable(thread_id):
            for ns in await self._namespaces(conn, thread_id):
                rows = await self._rows(conn, thread_id, ns)
                if rows and needed(rows, keep_latest()(rows)) != {rows[0].checkpoint_id}:
                    return True
        return False

    async def prune(self, conn: AsyncConnection[DictRow], thread_id: str, policy: Policy) -> int:
        """Apply the policy to every namespace of the thread, in one transaction.

        Raises ThreadsNotPruned, naming the thread, when its rows cannot be
        read; nothing of it is changed then.
        """
        deleted = 0
        with _not_pruned_if_unreadable(thread_id):
            async with conn.transaction():
                for ns in await self._namespaces(conn, thread_id):
                    rows = await self._rows(conn, thread_id, ns)
                    if not rows:
                        continue
                    keep = policy(rows)
                    if self.rebase is not None:
                        await self._snapshot_oldest(conn, thread_id, ns, rows, keep)
                    doomed = [
                        row.checkpoint_id for row in rows if row.checkpoint_id not in needed(rows, keep)
                    ]
                    if doomed:
                        deleted += await self.delete(conn, thread_id, ns, doomed)
        return deleted

    async def prune_into(
        self, report: PruneReport, conn: AsyncConnection[DictRow], thread_id: str, policy: Policy
    ) -> None:
        """`prune`, for a batch: a thread that cannot be pruned is logged and
        reported, and the batch goes on."""
        try:
            report.deleted += await self.prune(conn, thread_id, policy)
        except ThreadsNotPruned as exc:
            logger.warning("%s", exc)
            report.not_pruned.update(exc.reasons)

    async def _namespaces(self, conn: AsyncConnection[DictRow], thread_id: str) -> list[str]:
        return [
            row["checkpoint_ns"]
            for row in await (await conn.execute(_NAMESPACES_SQL, (thread_id,))).fetchall()
        ]

    async def _rows(self, conn: AsyncConnection[DictRow], thread_id: str, ns: str) -> list[CheckpointRow]:
        if self._rows_sql is None:
            row = await (await conn.execute(_HAS_CREATED_AT_SQL)).fetchone()
            # `ts` as text: parsed only by a policy that asks for ages (`CheckpointRow.age`).
            created_at = "c.created_at" if row and row["present"] else "c.checkpoint ->> 'ts'"
            self._rows_sql = _ROWS_SQL.replace("{created_at}", created_at)
        cursor = await conn.execute(self._rows_sql, (thread_id, ns))
        return [CheckpointRow.from_db(row) for row in await cursor.fetchall()]

    async def _snapshot_oldest(
        self,
        conn: AsyncConnection[DictRow],
        thread_id: str,
        ns: str,
        rows: Sequence[CheckpointRow],
        keep: set[str],
    ) -> None:
        """Store the oldest kept checkpoint's DeltaChannel values as snapshots.

        Only channels the thread's metadata names as DeltaChannels: a
        snapshot written for an ordinary channel would change its value.
        """
        oldest = next((row for row in reversed(rows) if row.checkpoint_id in keep), None)
        missing = sorted(oldest.unstored & known_delta_channels(rows)) if oldest else []
        if oldest is None or not missing or self.rebase is None:
            return
        values = await self.rebase(thread_id, ns, oldest.checkpoint_id)
        async with conn.transaction():
            for channel in missing:
                if channel not in values:
                    continue  # unknown to the reader: its ancestors stay instead
                kind, blob = self.serde.dumps_typed(DeltaSnapshot(values[channel]))
                version = oldest.versions[channel]
                await conn.execute(_WRITE_SNAPSHOT_SQL, (thread_id, ns, channel, version, kind, blob))
                await conn.execute(_MARK_SNAPSHOT_SQL, (channel, thread_id, ns, oldest.checkpoint_id))
                oldest.stored.add(channel)
                oldest.seeded.add(channel)

    async def delete(self, conn: AsyncConnection[DictRow], thread_id: str, ns: str, doomed: list[str]) -> int:
        """Delete these checkpoints, their writes and the blobs only they used."""
        async with conn.transaction():
            deleted = await (await conn.execute(_DELETE_SQL, (thread_id, ns, doomed))).fetchall()
            await conn.execute(_DELETE_WRITES_SQL, (thread_id, ns, doomed))
            await conn.execute(_UNLINK_PARENTS_SQL, (thread_id, ns, doomed))
            cursor = await conn.execute(_REFERENCED_SQL, (thread_id, ns))
            referenced = {(row["channel"], row["version"]) for row in await cursor.fetchall()}
            for channel, versions in _freed(deleted, referenced).items():
                await conn.execute(_DELETE_BLOBS_SQL, (thread_id, ns, channel, versions))
        return len(deleted)


def keep_newest(count: int) -> Policy:
    return lambda rows: {row.checkpoint_id for row in rows[:count]}


def keep_since(cutoff: datetime) -> Policy:
    """Checkpoints created at or after `cutoff`, and the latest whatever its age."""
    return lambda rows: {row.checkpoint_id for row in rows if row.age() >= cutoff} | {rows[0].checkpoint_id}


def keep_latest() -> Policy:
    return keep_newest(1)


@contextmanager
def _not_pruned_if_unreadable(thread_id: str) -> Iterator[None]:
    """What makes a thread's rows unreadable, as ThreadsNotPruned naming it:
    a row LangGraph would not have written (SQLSTATE class 22, data
    exception, from the queries that read them) or an age that is not one."""
    try:
        yield
    except (UnreadableCheckpoint, psycopg.DataError) as exc:
        raise ThreadsNotPruned({thread_id: first_line(exc)}) from exc
