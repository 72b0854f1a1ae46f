"""Loading a checkpoint at a cost that does not grow with its thread.

Loading a checkpoint joins its channel versions to `checkpoint_blobs`. The
planner answers the join by hashing every blob the thread has ever stored (a
version per turn for the input channel alone): 1,040 rows at 1,000 turns, and
more each turn. The blob table's primary key finds each of the checkpoint's
few channel versions directly; a lateral subquery with `OFFSET 0`, which the
planner cannot flatten into a join, makes it look them up one by one.

"""

from langgraph.checkpoint.postgres.base import SELECT_SQL as STOCK_SELECT_SQL

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


SELECT_SQL = _select_with_blob_lookups()
