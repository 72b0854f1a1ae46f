"""Rebuilding DeltaChannels with pages sized for chat threads, on our saver alone.

LangGraph's saver walks a thread's checkpoints newest first, in pages of its
module constant `_DELTA_PAGE_SIZE` (1,024), down to each channel's last
snapshot. The walk stops there, but the first page is read whole: once a
thread has 1,024 checkpoints, every turn reads and decodes 1,024 rows (15 ms)
for a snapshot a few dozen checkpoints back. This module pages the same walk
by `DELTA_PAGE_SIZE` rows, through the stock saver's own SQL builders and walk
steps, so the page size is ours and no other saver in the process changes.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import DeltaChannelHistory, get_checkpoint_id

from app.services.persistence.upstream import (
    HookedAsyncPostgresSaver,
    build_delta_stage1_sql,
    build_delta_stage2_sql,
    ingest_stage1_page,
    try_advance_walks,
)

# A chat turn makes three checkpoints and two updates of its messages: a
# snapshot every 50 updates is at most 75 checkpoints back.
DELTA_PAGE_SIZE = 128


@dataclass
class _Walk:
    """Where each channel's walk back to its seed stands, page after page."""

    target: str
    channels: list[str]
    parent_of: dict[str, str | None] = field(default_factory=dict)
    versions: list[dict[str, str | None]] = field(default_factory=list)
    has_blob: list[dict[str, bool]] = field(default_factory=list)
    inline: list[dict[str, Any]] = field(default_factory=list)
    chain: dict[str, list[str]] = field(default_factory=dict)
    seed_version: dict[str, str | None] = field(default_factory=dict)
    seed_inline: dict[str, Any] = field(default_factory=dict)
    cursor_of: dict[str, str | None] = field(default_factory=dict)
    seeded: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.versions = [{} for _ in self.channels]
        self.has_blob = [{} for _ in self.channels]
        self.inline = [{} for _ in self.channels]
        self.chain = {channel: [] for channel in self.channels}
        self.seed_version = dict.fromkeys(self.channels)

    def take(self, page: Sequence[Mapping[str, Any]]) -> str | None:
        """Fold a page in and advance every walk; the oldest id on the page."""
        oldest = ingest_stage1_page(
            page, self.channels, self.parent_of, self.versions, self.has_blob, self.inline
        )
        try_advance_walks(
            self.target,
            self.channels,
            self.parent_of,
            self.versions,
            self.has_blob,
            self.inline,
            self.chain,
            self.seed_version,
            self.seed_inline,
            self.cursor_of,
            self.seeded,
        )
        return oldest

    @property
    def done(self) -> bool:
        return len(self.seeded) == len(self.channels)


def _page_params(walk: _Walk, thread_id: str, ns: str, cursor: str) -> list[Any]:
    # Four placeholders a channel (version, blob channel, blob version, inline).
    return [*(c for channel in walk.channels for c in (channel,) * 4), thread_id, ns, cursor, DELTA_PAGE_SIZE]


@dataclass(frozen=True)
class HistoryRows:
    """What the walk read for one checkpoint, before it is decoded: building
    from it again yields fresh objects, as a read from the database would."""

    channels: tuple[str, ...]
    chain: dict[str, list[str]] = field(default_factory=dict)
    seed_version: dict[str, str | None] = field(default_factory=dict)
    seed_inline: dict[str, Any] = field(default_factory=dict)
    # The stage-2 rows (writes and seeds), as psycopg returned them.
    rows: tuple[Any, ...] = ()

    def build(self, saver: HookedAsyncPostgresSaver) -> Mapping[str, DeltaChannelHistory]:
        return saver.build_delta_channels_writes_history(
            channels=list(self.channels),
            chain_by_ch=self.chain,
            seed_ver_by_ch=self.seed_version,
            seed_inline_by_ch=self.seed_inline,
            stage2_rows=list(self.rows),
        )


async def delta_history_rows(
    saver: HookedAsyncPostgresSaver, config: RunnableConfig, channels: Sequence[str]
) -> HistoryRows:
    """The rows `AsyncPostgresSaver.aget_delta_channel_history` decodes, read in short pages."""
    thread_id = config["configurable"]["thread_id"]
    ns = config["configurable"].get("checkpoint_ns", "")
    target = get_checkpoint_id(config)
    if not target:
        latest = await saver.aget_tuple(config)
        if latest is None:  # no chain, no seed: each channel without writes
            return HistoryRows(tuple(channels))
        target = latest.config["configurable"]["checkpoint_id"]
    walk = _Walk(target, list(channels))
    # The first page starts at the target itself; later ones below the cursor.
    sql = build_delta_stage1_sql(walk.channels, paged=True, include_cursor=True)
    cursor: str | None = target
    async with saver.cursor() as cur:
        while cursor is not None:
            await cur.execute(sql, _page_params(walk, thread_id, ns, cursor))
            page = await cur.fetchall()
            oldest = walk.take(cast("list[Mapping[str, Any]]", page)) if page else None
            if walk.done or len(page) < DELTA_PAGE_SIZE:
                break
            cursor, sql = oldest, build_delta_stage1_sql(walk.channels, paged=True)
    return HistoryRows(
        tuple(walk.channels),
        walk.chain,
        walk.seed_version,
        walk.seed_inline,
        await _stage2_rows(saver, walk, thread_id, ns),
    )


async def _stage2_rows(
    saver: HookedAsyncPostgresSaver, walk: _Walk, thread_id: str, ns: str
) -> tuple[Any, ...]:
    """The writes along each chain and the seeds."""
    chained = [channel for channel in walk.channels if walk.chain[channel]]
    with_seed = [channel for channel in walk.channels if walk.seed_version[channel] is not None]
    sql = build_delta_stage2_sql(channels_with_chain=chained, channels_with_seed=with_seed)
    if not sql:
        return ()
    params: list[Any] = []
    for channel in chained:
        params += [thread_id, ns, channel, walk.chain[channel]]
    for channel in with_seed:
        params += [thread_id, ns, channel, walk.seed_version[channel]]
    async with saver.cursor() as cur:
        await cur.execute(sql, params)
        return tuple(await cur.fetchall())
