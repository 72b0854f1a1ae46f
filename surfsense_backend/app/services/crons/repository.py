"""Every query of the crons: a user's own, and the due ones a scheduler claims."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.models import Cron

# The wire's sort fields, as columns.
SORT_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {
    "cron_id": Cron.cron_id,
    "assistant_id": Cron.assistant_id,
    "thread_id": Cron.conversation_id,
    "next_run_date": Cron.next_run_at,
    "end_time": Cron.end_time,
    "created_at": Cron.created_at,
    "updated_at": Cron.updated_at,
}


@dataclass(frozen=True)
class CronFilter:
    assistant_id: str | None = None
    conversation_id: uuid.UUID | None = None
    metadata: dict[str, Any] | None = None
    enabled: bool | None = None


class CronRepository:
    def __init__(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        self.session = session
        self.user_id = user_id

    def _owned(self) -> Select[tuple[Cron]]:
        # The one place that scopes crons to their owner.
        return select(Cron).where(Cron.user_id == self.user_id)

    @staticmethod
    async def now(session: AsyncSession) -> datetime:
        """The database's time (its transaction's start): the clock due times are compared with."""
        now: datetime = (await session.execute(select(func.now()))).scalar_one()
        return now

    async def add(self, cron: Cron) -> Cron:
        cron.user_id = self.user_id
        self.session.add(cron)
        await self.session.flush()
        return cron

    async def get(self, cron_id: uuid.UUID, *, for_update: bool = False) -> Cron | None:
        statement = self._owned().where(Cron.cron_id == cron_id)
        if for_update:
            statement = statement.with_for_update()
        found: Cron | None = await self.session.scalar(statement)
        return found

    async def delete(self, cron_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            delete(Cron).where(Cron.cron_id == cron_id, Cron.user_id == self.user_id).returning(Cron.cron_id)
        )
        return result.scalar_one_or_none() is not None

    def _matching(self, where: CronFilter) -> Select[tuple[Cron]]:
        statement = self._owned()
        if where.assistant_id is not None:
            statement = statement.where(Cron.assistant_id == where.assistant_id)
        if where.conversation_id is not None:
            statement = statement.where(Cron.conversation_id == where.conversation_id)
        if where.enabled is not None:
            statement = statement.where(Cron.enabled == where.enabled)
        if where.metadata:
            statement = statement.where(_holds(Cron.metadata_, where.metadata))
        return statement

    async def search(
        self, where: CronFilter, *, limit: int, offset: int, sort_by: str, descending: bool
    ) -> Sequence[Cron]:
        order = [SORT_COLUMNS[sort_by], Cron.cron_id]
        statement = (
            self._matching(where)
            .order_by(*(c.desc().nulls_last() if descending else c.asc().nulls_last() for c in order))
            .limit(limit)
            .offset(offset)
        )
        return (await self.session.scalars(statement)).all()

    async def count(self, where: CronFilter) -> int:
        matching = self._matching(where).subquery()
        return int(await self.session.scalar(select(func.count()).select_from(matching)) or 0)

    async def flush(self) -> None:
        await self.session.flush()

    @staticmethod
    async def advance(session: AsyncSession, cron_id: uuid.UUID, next_run_at: datetime | None) -> None:
        """A claimed cron's next due time; firing it is no change of the cron (`updated_at` stays)."""
        await session.execute(
            update(Cron)
            .where(Cron.cron_id == cron_id)
            .values(next_run_at=next_run_at, updated_at=Cron.updated_at)
        )

    @staticmethod
    async def claim_due(session: AsyncSession, limit: int) -> Sequence[Cron]:
        """Enabled crons whose due time has come, any user's, locked for the
        caller's transaction. Rows another scheduler holds are skipped, and a
        row it moved past now since this statement began is re-read and left
        (PostgreSQL re-checks a locked row's WHERE): each due time is claimed once."""
        statement = (
            select(Cron)
            .where(Cron.enabled, Cron.next_run_at <= func.now())
            .order_by(Cron.next_run_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await session.scalars(statement)).all()


def _holds(document: InstrumentedAttribute[Any], pattern: dict[str, Any]) -> ColumnElement[bool]:
    """PostgreSQL's containment: `document @> pattern`."""
    return document.op("@>", is_comparison=True)(literal(pattern, JSONB))
