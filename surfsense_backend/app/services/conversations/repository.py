"""Every query of the conversation domain. Repositories flush, never commit."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import Select, delete, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.content import label_of
from app.models import PREVIEW_CHARS, Checkpoint, Conversation, Message

ArchivedFilter = Literal["false", "true", "all"]


# A fork's copies of the complete messages: each under its run's copy
# (`copy_for_fork`), or under no run when its run was not copied.
_COPY_MESSAGES_SQL = """
INSERT INTO messages (conversation_id, run_id, role, content, blocks, metadata, checkpoint_id, created_at)
SELECT :target, renamed.fork_run, m.role, m.content, m.blocks, m.metadata, m.checkpoint_id, m.created_at
FROM messages m
LEFT JOIN unnest(CAST(:sources AS uuid[]), CAST(:forks AS uuid[])) AS renamed(source_run, fork_run)
  ON renamed.source_run = m.run_id
WHERE m.conversation_id = :source AND m.status = 'complete' {condition}
ORDER BY m.id
"""
_RUNS_OF_COPY_SQL = """
SELECT DISTINCT m.run_id FROM messages m
WHERE m.conversation_id = :source AND m.status = 'complete' AND m.run_id IS NOT NULL {condition}
"""
# Up to checkpoint `until`: a reply still streaming belongs to the source's run, not to the fork.
_UNTIL = "AND m.checkpoint_id IS NOT NULL AND m.checkpoint_id <= :until"

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
        await self.session.execute(
            delete(Message).where(
                Message.conversation_id == conversation_id,
                Message.conversation_id.in_(self._owned().with_only_columns(Conversation.id)),
            )
        )
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

    async def runs_to_copy(self, source: uuid.UUID, until: str | None) -> list[uuid.UUID]:
        """The runs of the messages `copy_messages` copies."""
        statement = text(_RUNS_OF_COPY_SQL.replace("{condition}", _UNTIL if until else ""))
        return list((await self.session.scalars(statement, {"source": source, "until": until})).all())

    async def copy_messages(
        self, source: uuid.UUID, target: uuid.UUID, until: str | None, runs: Mapping[uuid.UUID, uuid.UUID]
    ) -> int:
        """Copy a conversation's complete messages (those saved up to checkpoint
        `until`), each under the copy of its run that `runs` names."""
        result = await self.session.execute(
            text(_COPY_MESSAGES_SQL.replace("{condition}", _UNTIL if until else "")),
            {
                "source": source,
                "target": target,
                "until": until,
                "sources": list(runs),
                "forks": list(runs.values()),
            },
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def rewind(self, conversation: Conversation, checkpoint_id: str) -> None:
        """The history back to the graph's state at `checkpoint_id`, a checkpoint
        of the thread's branch that a run goes on from: the messages that went
        in after it go (its checkpoints stay, the thread's history shows them)."""
        await self.session.execute(
            delete(Message).where(
                Message.conversation_id == conversation.id, Message.checkpoint_id > checkpoint_id
            )
        )
        await self.refresh_counters(conversation)
        await self.session.flush()

    async def refresh_counters(self, conversation: Conversation) -> None:
        complete = (Message.conversation_id == conversation.id, Message.status == "complete")
        latest = select(Message).where(*complete).order_by(Message.id.desc()).limit(1)
        last = await self.session.scalar(latest)
        count = await self.session.scalar(select(func.count()).select_from(Message).where(*complete))
        conversation.message_count = int(count or 0)
        conversation.last_message_preview = label_of(last.body)[:PREVIEW_CHARS] if last else None


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
