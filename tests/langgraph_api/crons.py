"""Making a cron due now, from a test: its next due time moved into the
past in the database, as time passing would, for the schedulers to find."""

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def make_due(engine: AsyncEngine, *cron_ids: str, minutes_ago: int = 1) -> None:
    """The crons due, all in one statement (every poller sees them at once):
    the first `minutes_ago`, each next a second later, so a poll takes them in order."""
    async with engine.begin() as conn:
        moved = await conn.execute(
            text(
                "UPDATE crons SET next_run_at = now() - make_interval(mins => :ago)"
                " + make_interval(secs => array_position(CAST(:ids AS uuid[]), cron_id))"
                " WHERE cron_id = ANY(:ids)"
            ),
            {"ago": minutes_ago, "ids": [uuid.UUID(cron_id) for cron_id in cron_ids]},
        )
        assert moved.rowcount == len(cron_ids)


async def all_advanced(engine: AsyncEngine, *cron_ids: str) -> bool:
    """Whether each cron's next due time is past now: its due time was claimed."""
    async with engine.connect() as conn:
        due = await conn.scalar(
            text("SELECT count(*) FROM crons WHERE cron_id = ANY(:ids) AND next_run_at <= now()"),
            {"ids": [uuid.UUID(cron_id) for cron_id in cron_ids]},
        )
    return bool(due == 0)


async def next_run_at(engine: AsyncEngine, cron_id: str) -> datetime | None:
    async with engine.connect() as conn:
        found: datetime | None = await conn.scalar(
            text("SELECT next_run_at FROM crons WHERE cron_id = :id"), {"id": uuid.UUID(cron_id)}
        )
    return found


async def fired(engine: AsyncEngine, cron_id: str) -> list[tuple[str, str]]:
    """The runs the cron started, oldest first: (run id, thread id)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT run_id, conversation_id FROM thread_runs "
                "WHERE kwargs -> 'metadata' ->> 'cron_id' = :id ORDER BY started_at"
            ),
            {"id": cron_id},
        )
        return [(str(run_id), str(thread_id)) for run_id, thread_id in rows]
