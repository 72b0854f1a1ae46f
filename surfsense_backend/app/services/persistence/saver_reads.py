"""Loading a checkpoint at a cost that does not grow with its thread.

Loading a checkpoint joins its channel versions to `checkpoint_blobs`. The
planner answers the join by hashing every blob the thread has ever stored (a
version per turn for the input channel alone): 1,040 rows at 1,000 turns, and
more each turn. The blob table's primary key finds each of the checkpoint's
few channel versions directly; a lateral subquery with `OFFSET 0`, which the
planner cannot flatten into a join, makes it look them up one by one.

"""

from app.services.persistence.upstream import stock_select_sql

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


# `upstream` does not import unless the stock blob join is there to replace.
SELECT_SQL = stock_select_sql(_BLOB_LOOKUPS)
