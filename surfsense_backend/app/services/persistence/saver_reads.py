"""Two reads of the stock saver whose cost grows with a thread, made flat.

Loading a checkpoint joins its channel versions to `checkpoint_blobs`. The
planner answers the join by hashing every blob the thread has ever stored (a
version per turn for the input channel alone): 1,040 rows at 1,000 turns, and
more each turn. The blob table's primary key finds each of the checkpoint's
few channel versions directly; a lateral subquery with `OFFSET 0`, which the
planner cannot flatten into a join, makes it look them up one by one.

Rebuilding a DeltaChannel walks the thread's checkpoints newest first down to
the channel's last snapshot, in pages of `_DELTA_PAGE_SIZE` (1,024) rows. The
walk stops at the snapshot but the first page is read whole: once a thread
has 1,024 checkpoints, every turn reads and decodes 1,024 rows (15 ms) for a
snapshot a few dozen checkpoints back. Smaller pages read what the walk
needs, plus one more round trip per page for a snapshot further away. The
page size is a module global that the stock method reads at each call, the
only way to set it without copying the method; it is LangGraph's for every
saver in the process, which only matters to graphs with DeltaChannels.
"""

from langgraph.checkpoint.postgres import aio
from langgraph.checkpoint.postgres.base import SELECT_SQL as STOCK_SELECT_SQL

# A chat turn makes three checkpoints and two updates of its messages: a
# snapshot every 50 updates is at most 75 checkpoints back.
DELTA_PAGE_SIZE = 128

_BLOB_JOIN = """
        from jsonb_each_text(checkpoint -> 'channel_versions')
        inner join checkpoint_blobs bl
            on bl.thread_id = checkpoints.thread_id
            and bl.checkpoint_ns = checkpoints.checkpoint_ns
            and bl.channel = jsonb_each_text.key
            and bl.version = jsonb_each_text.value
"""

_BLOB_LOOKUPS = """
        from jsonb_each_text(checkpoint -> 'channel_versions') as version
        cross join lateral (
            select b.channel, b.type, b.blob
            from checkpoint_blobs b
            where b.thread_id = checkpoints.thread_id
                and b.checkpoint_ns = checkpoints.checkpoint_ns
                and b.channel = version.key
                and b.version = version.value
            offset 0
        ) as bl
"""


def _select_with_blob_lookups() -> str:
    if STOCK_SELECT_SQL.count(_BLOB_JOIN) != 1:
        raise RuntimeError("langgraph-checkpoint-postgres changed its SELECT_SQL: review saver_reads.py")
    return STOCK_SELECT_SQL.replace(_BLOB_JOIN, _BLOB_LOOKUPS)


def use_short_delta_pages() -> None:
    """Make the stock DeltaChannel walk read `DELTA_PAGE_SIZE` rows a page."""
    if "_DELTA_PAGE_SIZE" not in vars(aio):
        raise RuntimeError(
            "langgraph-checkpoint-postgres no longer pages by _DELTA_PAGE_SIZE: review saver_reads.py"
        )
    vars(aio)["_DELTA_PAGE_SIZE"] = DELTA_PAGE_SIZE


SELECT_SQL = _select_with_blob_lookups()
