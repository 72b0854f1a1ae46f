"""Every query of the conversation domain. Repositories flush, never commit."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, delete, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Checkpoint, Conversation
from app.services.conversations.archived import ArchivedFilter
from app.services.messages.repository import MessageRepository

# The oldest first, batched: the rest go at the next sweep.
_EXPIRE_ARCHIVED_SQL = """
DELETE FROM conversations WHERE id IN (
    SELECT id FROM conversations
    WHERE archived AND updated_at < now() - make_interval(secs => CAST(:days AS double precision) * 86400)
    ORDER BY updated_at LIMIT :limit
)
"""


class ConversationRepository:
    def __init__(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        self.session = session
        self.user_id = user_id

    def _owned(self, archived: ArchivedFilter = "all") -> Select[tuple[Conversation]]:
        # The one place that scopes conversations to their owner.
        statement = select(Conversation).where(Conversation.user_id == self.user_id)
        if archived != "all":
            statement = statement.where(Conversation.archived.is_(archived == "true"))
        return statement

    async def get(self, conversation_id: uuid.UUID, *, for_update: bool = False) -> Conversation | None:
        statement = self._owned().where(Conversation.id == conversation_id)
        if for_update:
            statement = statement.with_for_update()
        conversation: Conversation | None = await self.session.scalar(statement)
        return conversation

    def page_statement(
        self, archived: ArchivedFilter, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> Select[tuple[Conversation]]:
        """Newest activity first; keyset on (updated_at, id), read off the index."""
        statement = self._owned(archived)
        if after is not None:
            statement = statement.where(tuple_(Conversation.updated_at, Conversation.id) < after)
        return statement.order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(limit)

    async def page(
        self, archived: ArchivedFilter, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> Sequence[Conversation]:
        return (await self.session.scalars(self.page_statement(archived, limit, after))).all()

    async def count(self, archived: ArchivedFilter) -> int:
        subquery = self._owned(archived).with_only_columns(Conversation.id).subquery()
        return int(await self.session.scalar(select(func.count()).select_from(subquery)) or 0)

    def add(self, conversation: Conversation) -> None:
        self.session.add(conversation)

    async def delete(self, conversation_id: uuid.UUID) -> bool:
        """Delete it and, by cascade, its messages, runs and checkpoint rows.

        Its messages go first: a run still writing locks its reply, then its
        run's row (its events refer to it); the cascade from the conversation
        would lock the run first, then the reply, and deadlock with it."""
        await MessageRepository(self.session).delete_conversation(conversation_id, self.user_id)
        result = await self.session.execute(
            delete(Conversation)
            .where(Conversation.id == conversation_id, Conversation.user_id == self.user_id)
            .returning(Conversation.id)
        )
        return result.scalar_one_or_none() is not None

    @staticmethod
    async def expire_archived(session: AsyncSession, days: float, limit: int) -> int:
        """Delete at most `limit` conversations archived and untouched for
        `days`, of every owner (the retention sweep's, so no `user_id`), with
        their messages, runs and checkpoint rows by cascade."""
        result = await session.execute(text(_EXPIRE_ARCHIVED_SQL), {"days": days, "limit": limit})
        return int(result.rowcount)  # type: ignore[attr-defined]


# From a checkpoint up to where its branch meets the thread's current one:
# its ancestors, the walk stopping at the first on the current branch (itself,
# when it is on it).
_BRANCH_TO_SQL = """
WITH RECURSIVE current AS (
    (SELECT checkpoint_id, parent_checkpoint_id FROM checkpoints
     WHERE thread_id = :thread AND checkpoint_ns = '' ORDER BY checkpoint_id DESC LIMIT 1)
    UNION ALL
    SELECT c.checkpoint_id, c.parent_checkpoint_id
    FROM checkpoints c JOIN current b ON c.checkpoint_id = b.parent_checkpoint_id
    WHERE c.thread_id = :thread AND c.checkpoint_ns = ''
), other AS (
    SELECT checkpoint_id, parent_checkpoint_id FROM checkpoints
    WHERE thread_id = :thread AND checkpoint_ns = '' AND checkpoint_id = :checkpoint
    UNION ALL
    SELECT c.checkpoint_id, c.parent_checkpoint_id
    FROM checkpoints c JOIN other o ON c.checkpoint_id = o.parent_checkpoint_id
    WHERE c.thread_id = :thread AND c.checkpoint_ns = ''
      AND o.checkpoint_id NOT IN (SELECT checkpoint_id FROM current)
)
SELECT checkpoint_id, checkpoint_id IN (SELECT checkpoint_id FROM current) AS shared
FROM other ORDER BY checkpoint_id
"""


class CheckpointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(self, conversation_id: uuid.UUID, limit: int, before: str | None) -> Sequence[Checkpoint]:
        statement = select(Checkpoint).where(
            Checkpoint.thread_id == str(conversation_id), Checkpoint.checkpoint_ns == ""
        )
        if before is not None:
            statement = statement.where(Checkpoint.checkpoint_id < before)
        return (
            await self.session.scalars(statement.order_by(Checkpoint.checkpoint_id.desc()).limit(limit))
        ).all()

    async def latest(self, conversation_id: uuid.UUID) -> str | None:
        """The id of the thread's latest root checkpoint (LangGraph's head), None before its first."""
        found: str | None = await self.session.scalar(
            select(func.max(Checkpoint.checkpoint_id)).where(
                Checkpoint.thread_id == str(conversation_id), Checkpoint.checkpoint_ns == ""
            )
        )
        return found

    async def exists(self, conversation_id: uuid.UUID, checkpoint_id: str) -> bool:
        found = await self.session.scalar(
            select(Checkpoint.checkpoint_id).where(
                Checkpoint.thread_id == str(conversation_id),
                Checkpoint.checkpoint_ns == "",
                Checkpoint.checkpoint_id == checkpoint_id,
            )
        )
        return found is not None

    async def branch_to(self, conversation_id: uuid.UUID, checkpoint_id: str) -> tuple[str | None, list[str]]:
        """Where the branch of a root checkpoint meets the thread's current
        branch (None if they share no checkpoint), and its checkpoints after
        that, oldest first, ending with `checkpoint_id`: none when it is on the
        current branch (the latest, or one of its ancestors)."""
        rows = (
            await self.session.execute(
                text(_BRANCH_TO_SQL), {"thread": str(conversation_id), "checkpoint": checkpoint_id}
            )
        ).all()
        if rows and rows[0].shared:
            return rows[0].checkpoint_id, [row.checkpoint_id for row in rows[1:]]
        return None, [row.checkpoint_id for row in rows]

    async def subgraphs_of_step(
        self, conversation_id: uuid.UUID, checkpoint_id: str
    ) -> list[tuple[str, str]]:
        """Each subgraph namespace whose checkpoints hang off the root checkpoint
        before `checkpoint_id` (the step that made it ran them), with its latest."""
        rows = await self.session.execute(
            text(
                """
                SELECT DISTINCT ON (sub.checkpoint_ns) sub.checkpoint_ns, sub.checkpoint_id
                FROM checkpoints root
                JOIN checkpoints sub
                  ON sub.thread_id = root.thread_id AND sub.checkpoint_ns <> ''
                 AND sub.metadata -> 'parents' ->> '' = root.parent_checkpoint_id
                WHERE root.thread_id = :thread AND root.checkpoint_ns = ''
                  AND root.checkpoint_id = :checkpoint
                ORDER BY sub.checkpoint_ns, sub.checkpoint_id DESC
                """
            ),
            {"thread": str(conversation_id), "checkpoint": checkpoint_id},
        )
        return [(row.checkpoint_ns, row.checkpoint_id) for row in rows]
