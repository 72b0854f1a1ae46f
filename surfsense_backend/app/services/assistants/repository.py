"""Every query of the assistants: a user's own, with their versions, and the
listing a search pages through, where the shared graphs are rows too."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    Text,
    column,
    delete,
    func,
    literal,
    select,
    values,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.models import AssistantVersion, Conversation, StoredAssistant
from app.services.assistants.filters import AssistantFilter, SortBy

# An assistant's fields as a search lists them, in this order.
FIELDS = (
    "assistant_id",
    "graph_id",
    "name",
    "description",
    "config",
    "context",
    "metadata",
    "version",
    "created_at",
    "updated_at",
)


def _owned_listing(user_id: uuid.UUID) -> Select[Any]:
    a = StoredAssistant
    return select(
        a.assistant_id.cast(Text).label("assistant_id"),
        a.graph_id.cast(Text).label("graph_id"),
        a.name.cast(Text).label("name"),
        a.description,
        a.config,
        a.context,
        a.metadata_.label("metadata"),
        a.version,
        a.created_at,
        a.updated_at,
    ).where(a.user_id == user_id)


def _system_listing(system: Sequence[dict[str, Any]]) -> Select[Any]:
    table = values(
        column("assistant_id", Text),
        column("graph_id", Text),
        column("name", Text),
        column("description", Text),
        column("config", JSONB),
        column("context", JSONB),
        column("metadata", JSONB),
        column("version", Integer),
        column("created_at", DateTime(timezone=True)),
        column("updated_at", DateTime(timezone=True)),
        name="system_assistants",
    ).data([tuple(row[field] for field in FIELDS) for row in system])
    return select(*(table.c[field] for field in FIELDS))


class AssistantRepository:
    def __init__(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        self.session = session
        self.user_id = user_id

    def _owned(self) -> Select[tuple[StoredAssistant]]:
        # The one place that scopes assistants to their owner.
        return select(StoredAssistant).where(StoredAssistant.user_id == self.user_id)

    async def get(self, assistant_id: uuid.UUID, *, for_update: bool = False) -> StoredAssistant | None:
        statement = self._owned().where(StoredAssistant.assistant_id == assistant_id)
        if for_update:
            statement = statement.with_for_update()
        found: StoredAssistant | None = await self.session.scalar(statement)
        return found

    async def mine(self) -> Sequence[StoredAssistant]:
        """The caller's assistants, newest first (as the chat page offers them)."""
        return (await self.session.scalars(self._owned().order_by(StoredAssistant.created_at.desc()))).all()

    async def of_conversation(self, conversation_id: uuid.UUID) -> tuple[StoredAssistant, str] | None:
        """The caller's assistant the caller's conversation keeps, with the
        conversation's graph; None when it keeps none: one statement a turn."""
        statement = (
            self._owned()
            .add_columns(Conversation.assistant_id)
            .join(Conversation, Conversation.stored_assistant_id == StoredAssistant.assistant_id)
            .where(Conversation.id == conversation_id, Conversation.user_id == self.user_id)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def owner_of(self, assistant_id: uuid.UUID) -> uuid.UUID | None:
        owner: uuid.UUID | None = await self.session.scalar(
            select(StoredAssistant.user_id).where(StoredAssistant.assistant_id == assistant_id)
        )
        return owner

    async def add_if_absent(self, assistant_id: uuid.UUID, fields: dict[str, Any]) -> StoredAssistant | None:
        """The caller's new assistant at version 1, unless its id is taken
        (then None). A create racing for the same id waits for the other's
        commit and adds nothing, where a plain INSERT would fail on the key."""
        added = await self.session.scalar(
            insert(StoredAssistant)
            .values(assistant_id=assistant_id, user_id=self.user_id, version=1, **fields)
            .on_conflict_do_nothing(index_elements=[StoredAssistant.assistant_id])
            .returning(StoredAssistant)
        )
        if added is None:
            return None
        await self.add_version(added)
        return added

    async def add_version(self, assistant: StoredAssistant) -> None:
        """Keep the assistant as it is now as its version `assistant.version`."""
        self.session.add(
            AssistantVersion(
                assistant_id=assistant.assistant_id,
                version=assistant.version,
                graph_id=assistant.graph_id,
                name=assistant.name,
                description=assistant.description,
                config=assistant.config,
                context=assistant.context,
                metadata_=assistant.metadata_,
            )
        )
        await self.session.flush()

    async def latest_version(self, assistant_id: uuid.UUID) -> int:
        """The highest version made, whichever is current."""
        found = await self.session.scalar(
            select(func.max(AssistantVersion.version)).where(AssistantVersion.assistant_id == assistant_id)
        )
        return int(found or 0)

    async def version(self, assistant_id: uuid.UUID, version: int) -> AssistantVersion | None:
        found: AssistantVersion | None = await self.session.get(AssistantVersion, (assistant_id, version))
        return found

    async def versions(
        self, assistant_id: uuid.UUID, metadata: dict[str, Any] | None, limit: int, offset: int
    ) -> Sequence[AssistantVersion]:
        """The versions of an assistant of the caller's, newest first."""
        statement = (
            select(AssistantVersion)
            .join(StoredAssistant)
            .where(StoredAssistant.user_id == self.user_id, AssistantVersion.assistant_id == assistant_id)
        )
        if metadata:
            statement = statement.where(_holds(AssistantVersion.metadata_, metadata))
        statement = statement.order_by(AssistantVersion.version.desc()).limit(limit).offset(offset)
        return (await self.session.scalars(statement)).all()

    async def delete(self, assistant_id: uuid.UUID) -> bool:
        """Delete it and, by cascade, its versions."""
        result = await self.session.execute(
            delete(StoredAssistant)
            .where(StoredAssistant.assistant_id == assistant_id, StoredAssistant.user_id == self.user_id)
            .returning(StoredAssistant.assistant_id)
        )
        return result.scalar_one_or_none() is not None

    def _listing(self, system: Sequence[dict[str, Any]], where: AssistantFilter) -> Select[Any]:
        """The caller's assistants and the shared ones that match `where`, as one table."""
        listing = _owned_listing(self.user_id)
        if system:
            listing = listing.union_all(_system_listing(system))  # type: ignore[assignment]
        listed = listing.subquery("listed")
        statement = select(*(listed.c[field] for field in FIELDS))
        if where.metadata:
            statement = statement.where(_holds(listed.c.metadata, where.metadata))
        if where.graph_id is not None:
            statement = statement.where(listed.c.graph_id == where.graph_id)
        if where.name is not None:
            statement = statement.where(func.strpos(func.lower(listed.c.name), where.name.lower()) > 0)
        return statement

    async def search(
        self,
        system: Sequence[dict[str, Any]],
        where: AssistantFilter,
        *,
        limit: int,
        offset: int,
        sort_by: SortBy,
        descending: bool,
    ) -> list[dict[str, Any]]:
        listed = self._listing(system, where).subquery("found")
        order = [listed.c[sort_by], listed.c.assistant_id]
        statement = (
            select(listed)
            .order_by(*(c.desc() if descending else c.asc() for c in order))
            .limit(limit)
            .offset(offset)
        )
        return [dict(row) for row in (await self.session.execute(statement)).mappings()]

    async def count(self, system: Sequence[dict[str, Any]], where: AssistantFilter) -> int:
        listed = self._listing(system, where).subquery("found")
        return int(await self.session.scalar(select(func.count()).select_from(listed)) or 0)


def _holds(
    document: ColumnElement[Any] | InstrumentedAttribute[Any], pattern: dict[str, Any]
) -> ColumnElement[bool]:
    """PostgreSQL's containment: `document @> pattern`."""
    return document.op("@>", is_comparison=True)(literal(pattern, JSONB))
