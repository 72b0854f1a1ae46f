"""The thread queries: a user's conversations filtered, sorted and counted
by the same conditions, so a page and the count agree."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.models import Conversation, RunStatus, ThreadRun
from app.models.run_status import ACTIVE

ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
SortBy = Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"]

_latest_run = (
    select(ThreadRun.status)
    .where(ThreadRun.conversation_id == Conversation.id)
    .order_by(ThreadRun.started_at.desc())
    .limit(1)
    .scalar_subquery()
)
_active = (
    select(ThreadRun.run_id)
    .where(ThreadRun.conversation_id == Conversation.id, ThreadRun.status.in_(ACTIVE))
    .exists()
)
# Busy while a run is running or queued; otherwise what its latest run left.
STATUS: ColumnElement[str] = case(
    (_active, "busy"),
    (_latest_run == RunStatus.INTERRUPTED, "interrupted"),
    (_latest_run == RunStatus.FAILED, "error"),
    else_="idle",
)
# The client's keys, and the graph the thread runs, which they cannot override.
METADATA: ColumnElement[dict[str, Any]] = Conversation.metadata_.op("||")(
    func.jsonb_build_object("graph_id", Conversation.assistant_id, "assistant_id", Conversation.assistant_id)
)
_SORT_COLUMNS: dict[str, ColumnElement[Any] | InstrumentedAttribute[Any]] = {
    "thread_id": Conversation.id,
    "status": STATUS,
    "created_at": Conversation.created_at,
    "updated_at": Conversation.updated_at,
    "state_updated_at": Conversation.updated_at,
}


@dataclass(frozen=True)
class ThreadRow:
    conversation: Conversation
    status: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class ThreadFilter:
    metadata: dict[str, Any] | None = None
    ids: Sequence[uuid.UUID] | None = None
    status: ThreadStatus | None = None


class ThreadRepository:
    def __init__(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        self.session = session
        self.user_id = user_id

    def _filtered(self, statement: Select[Any], where: ThreadFilter) -> Select[Any]:
        statement = statement.where(Conversation.user_id == self.user_id)
        if where.metadata:
            statement = statement.where(METADATA.op("@>", is_comparison=True)(literal(where.metadata, JSONB)))
        if where.ids is not None:
            statement = statement.where(Conversation.id.in_(where.ids))
        if where.status is not None:
            statement = statement.where(STATUS == where.status)  # noqa: SIM300 - an SQL expression
        return statement

    async def get(self, thread_id: uuid.UUID) -> ThreadRow | None:
        statement = self._filtered(select(Conversation, STATUS, METADATA), ThreadFilter(ids=[thread_id]))
        row = (await self.session.execute(statement)).one_or_none()
        return ThreadRow(*row) if row is not None else None

    async def search(
        self, where: ThreadFilter, *, limit: int, offset: int, sort_by: SortBy, descending: bool
    ) -> list[ThreadRow]:
        column = _SORT_COLUMNS[sort_by]
        order = (
            [column.desc(), Conversation.id.desc()] if descending else [column.asc(), Conversation.id.asc()]
        )
        statement = self._filtered(select(Conversation, STATUS, METADATA), where).order_by(*order)
        rows = await self.session.execute(statement.limit(limit).offset(offset))
        return [ThreadRow(*row) for row in rows.all()]

    async def count(self, where: ThreadFilter) -> int:
        return int(await self.session.scalar(self._filtered(select(func.count()), where)) or 0)

    async def add_if_absent(self, thread_id: uuid.UUID, assistant_id: str, metadata: dict[str, Any]) -> bool:
        """The caller's new thread, unless its id is taken: whether it was
        added. A create racing for the same id waits for the other's commit
        and adds nothing, where a plain INSERT would fail on the key."""
        added = await self.session.scalar(
            insert(Conversation)
            .values(
                {
                    Conversation.id: thread_id,
                    Conversation.user_id: self.user_id,
                    Conversation.assistant_id: assistant_id,
                    Conversation.metadata_: metadata,
                }
            )
            .on_conflict_do_nothing(index_elements=[Conversation.id])
            .returning(Conversation.id)
        )
        return added is not None

    async def owner_of(self, thread_id: uuid.UUID) -> uuid.UUID | None:
        owner: uuid.UUID | None = await self.session.scalar(
            select(Conversation.user_id).where(Conversation.id == thread_id)
        )
        return owner
