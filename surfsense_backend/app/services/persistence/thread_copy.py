"""Copying a LangGraph thread's rows to a new thread, whole or up to a checkpoint.

Plain SQL on whichever connection the caller holds, so a fork runs in the same
transaction as the conversation it creates. A copy up to a checkpoint takes
that checkpoint's whole ancestor chain and its writes, which is what a
DeltaChannel needs to rebuild state, and the blobs those checkpoints refer to.
"""

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

_CHAIN = """
WITH RECURSIVE chain AS (
    SELECT checkpoint_ns, checkpoint_id, parent_checkpoint_id FROM checkpoints
    WHERE thread_id = :source AND checkpoint_ns = '' AND checkpoint_id = :until
    UNION ALL
    SELECT c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id
    FROM checkpoints c JOIN chain ON c.checkpoint_id = chain.parent_checkpoint_id
    WHERE c.thread_id = :source AND c.checkpoint_ns = ''
),
copied AS (
    SELECT checkpoint_ns, checkpoint_id FROM chain
    UNION ALL
    -- Subgraph namespaces: what they saved up to that point.
    SELECT checkpoint_ns, checkpoint_id FROM checkpoints
    WHERE thread_id = :source AND checkpoint_ns <> '' AND checkpoint_id <= :until
)
"""

_COPY_CHECKPOINTS = """
INSERT INTO checkpoints
    (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata)
SELECT :target, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.type, c.checkpoint, c.metadata
FROM checkpoints c {join}
WHERE c.thread_id = :source
ON CONFLICT DO NOTHING
"""

_COPY_WRITES = """
INSERT INTO checkpoint_writes
    (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
SELECT :target, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.task_path, w.idx, w.channel, w.type, w.blob
FROM checkpoint_writes w {join}
WHERE w.thread_id = :source
ON CONFLICT DO NOTHING
"""

_COPY_BLOBS = """
INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
SELECT :target, b.checkpoint_ns, b.channel, b.version, b.type, b.blob
FROM checkpoint_blobs b
WHERE b.thread_id = :source {where}
ON CONFLICT DO NOTHING
"""

_JOIN_COPIED = "JOIN copied USING (checkpoint_ns, checkpoint_id)"
# One set of every (namespace, channel, version) the target refers to, so the
# filter is a hash lookup per blob, not a scan of checkpoints per blob.
_BLOB_REFERENCED = """AND (b.checkpoint_ns, b.channel, b.version) IN (
    SELECT t.checkpoint_ns, v.key, v.value
    FROM checkpoints t CROSS JOIN LATERAL jsonb_each_text(t.checkpoint -> 'channel_versions') AS v
    WHERE t.thread_id = :target
)"""


def copy_statements(*, until: bool) -> tuple[str, str, str]:
    """The three INSERT ... SELECT statements, in the order they must run."""
    if not until:
        return (
            _COPY_CHECKPOINTS.format(join=""),
            _COPY_WRITES.format(join=""),
            _COPY_BLOBS.format(where=""),
        )
    return (
        _CHAIN + _COPY_CHECKPOINTS.format(join=_JOIN_COPIED),
        _CHAIN + _COPY_WRITES.format(join=_JOIN_COPIED),
        # Blobs follow the checkpoints already copied to the target.
        _COPY_BLOBS.format(where=_BLOB_REFERENCED),
    )


async def copy_thread(session: AsyncSession, source: str, target: str, until: str | None = None) -> int:
    """Copy `source`'s rows to `target` in the session's transaction; return checkpoints copied."""
    params = {"source": source, "target": target, "until": until}
    checkpoints, writes, blobs = copy_statements(until=until is not None)
    copied = (await session.execute(text(checkpoints), params)).rowcount  # type: ignore[attr-defined]
    await session.execute(text(writes), params)
    await session.execute(text(blobs), params)
    return int(copied)


def psycopg_copy_statements(*, until: bool) -> tuple[str, ...]:
    """The same statements with psycopg's `%(name)s` placeholders, for the saver."""
    dialect = psycopg_dialect.dialect()  # type: ignore[no-untyped-call]
    return tuple(str(text(sql).compile(dialect=dialect)) for sql in copy_statements(until=until))
