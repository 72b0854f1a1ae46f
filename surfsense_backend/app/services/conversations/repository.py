"""Every query of the conversation domain. Repositories flush, never commit."""

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Boolean, Select, delete, func, insert, literal, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.content import label_of
from app.models import ACTIVE_STATUSES, PREVIEW_CHARS, Checkpoint, Conversation, Message, RunEvent, ThreadRun

ArchivedFilter = Literal["false", "true", "all"]


# The runs go first, in a CTE: messages refer to them by the new ids. Feedback
# stays with the source's runs.
_COPY_MESSAGES_SQL = """
WITH copied AS (
    SELECT m.* FROM messages m
    WHERE m.conversation_id = :source AND m.status = 'complete' {condition}
),
renamed AS (
    SELECT run_id AS source_run, gen_random_uuid() AS fork_run
    FROM (SELECT DISTINCT run_id FROM copied WHERE run_id IS NOT NULL) AS runs
),
runs AS (
    INSERT INTO thread_runs (run_id, conversation_id, user_id, prompt, status, error_kind, error,
                             checkpoint_id, started_at, finished_at)
    SELECT renamed.fork_run, :target, r.user_id, r.prompt, r.status, r.error_kind, r.error,
           r.checkpoint_id, r.started_at, r.finished_at
    FROM thread_runs r JOIN renamed ON renamed.source_run = r.run_id
    WHERE r.status NOT IN ('pending', 'running')
    RETURNING run_id
)
INSERT INTO messages (conversation_id, run_id, role, content, blocks, metadata, checkpoint_id, created_at)
SELECT :target, runs.run_id, c.role, c.content, c.blocks, c.metadata, c.checkpoint_id, c.created_at
FROM copied c
LEFT JOIN renamed ON renamed.source_run = c.run_id
LEFT JOIN runs ON runs.run_id = renamed.fork_run
ORDER BY c.id
"""

_APPEND_EVENT_SQL = """
INSERT INTO run_events (run_id, seq, events)
SELECT :run_id, COALESCE(max(seq), 0) + 1, CAST(:events AS json) FROM run_events WHERE run_id = :run_id
"""

# A running run without a lease, or whose lease ran out, has no live holder.
_LAPSED = func.coalesce(ThreadRun.lease_expires_at < func.now(), True)

# Both halves read only the partial indexes of running and pending runs.
_NEEDING_ATTENTION_SQL = """
SELECT conversation_id FROM thread_runs
WHERE status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now())
UNION
SELECT p.conversation_id FROM thread_runs p
WHERE p.status = 'pending' AND NOT EXISTS (
    SELECT 1 FROM thread_runs r WHERE r.conversation_id = p.conversation_id AND r.status = 'running'
)
LIMIT :limit
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

    async def copy_messages(self, source: uuid.UUID, target: uuid.UUID, until: str | None) -> int:
        """Copy a conversation's messages (those saved up to checkpoint `until`)
        and the runs they belong to, under new run ids, in one statement."""
        condition = "AND m.checkpoint_id IS NOT NULL AND m.checkpoint_id <= :until" if until else ""
        # A reply still streaming belongs to the source's run, not to the fork.
        result = await self.session.execute(
            text(_COPY_MESSAGES_SQL.replace("{condition}", condition)),
            {"source": source, "target": target, "until": until},
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


class RunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_conversation(
        self,
        conversation_id: uuid.UUID,
        statuses: Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Sequence[ThreadRun]:
        """The conversation's runs (of `statuses`, if given), newest first."""
        statement = select(ThreadRun).where(ThreadRun.conversation_id == conversation_id)
        if statuses is not None:
            statement = statement.where(ThreadRun.status.in_(statuses))
        newest_first = statement.order_by(ThreadRun.started_at.desc(), ThreadRun.run_id)
        return (await self.session.scalars(newest_first.limit(limit).offset(offset))).all()

    async def has_any(self, conversation_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(ThreadRun.run_id).where(ThreadRun.conversation_id == conversation_id).limit(1)
        )
        return found is not None

    async def forget(self, run_id: uuid.UUID) -> None:
        """The run's record and events (cascade); its messages stay, no longer its."""
        await self.session.execute(delete(ThreadRun).where(ThreadRun.run_id == run_id))

    async def get_for_user(
        self, run_id: uuid.UUID, user_id: uuid.UUID, *, for_update: bool = False
    ) -> ThreadRun | None:
        statement = select(ThreadRun).where(ThreadRun.run_id == run_id, ThreadRun.user_id == user_id)
        if for_update:
            # Locked: a delete racing the caller's update waits, or went first and it is None.
            statement = statement.with_for_update(key_share=True)
        run: ThreadRun | None = await self.session.scalar(statement)
        return run

    async def last_reply(self, run_id: uuid.UUID) -> Message | None:
        """The run's latest complete assistant message."""
        reply: Message | None = await self.session.scalar(
            select(Message)
            .where(Message.run_id == run_id, Message.role == "assistant", Message.status == "complete")
            .order_by(Message.id.desc())
            .limit(1)
        )
        return reply

    async def interrupts_of(self, run_id: uuid.UUID) -> Sequence[Message]:
        """What the run asked when it stopped, in order."""
        statement = select(Message).where(Message.run_id == run_id, Message.role == "interrupt")
        return (await self.session.scalars(statement.order_by(Message.id))).all()

    async def active(self, conversation_id: uuid.UUID) -> Sequence[tuple[ThreadRun, bool]]:
        """The conversation's pending and running runs, oldest first, each with
        whether its lease has run out (a running run whose process died)."""
        statement = (
            select(ThreadRun, _LAPSED)
            .where(ThreadRun.conversation_id == conversation_id, ThreadRun.status.in_(ACTIVE_STATUSES))
            .order_by(ThreadRun.started_at, ThreadRun.run_id)
        )
        return [(run, bool(lapsed)) for run, lapsed in (await self.session.execute(statement)).all()]

    async def lock_conversation(
        self, conversation_id: uuid.UUID, owner_id: uuid.UUID
    ) -> tuple[Conversation, bool] | None:
        """The owner's conversation, locked, and whether any of its runs is
        pending or running: one statement for the common case, a free one.

        FOR NO KEY UPDATE: it serializes the conversation's writers, yet lets
        the saver insert checkpoints that refer to the row (a KEY SHARE lock)
        on its own connection while this transaction holds it.

        Whether it is busy is read above the lock, by a VOLATILE function
        (migration 0013): a subquery of this statement would read the
        statement's snapshot, taken before a lock it waited for was granted,
        and miss the run whose admission it waited behind (decision 0015)."""
        locked = (
            select(Conversation)
            .where(Conversation.id == conversation_id, Conversation.user_id == owner_id)
            .with_for_update(key_share=True)
            .subquery()
        )
        conversation = aliased(Conversation, locked)
        busy = func.conversation_has_active_run(locked.c.id, type_=Boolean)
        row = (await self.session.execute(select(conversation, busy))).one_or_none()
        return (row[0], bool(row[1])) if row is not None else None

    async def fail_lapsed(self, run_ids: Sequence[uuid.UUID], event: dict[str, Any]) -> Sequence[uuid.UUID]:
        """Runs whose process died mid-run: marked Interrupted, their unfinished
        replies removed, `event` (their stream's end) stored after their last."""
        lapsed = (
            await self.session.scalars(
                update(ThreadRun)
                .where(
                    ThreadRun.run_id.in_(run_ids),
                    ThreadRun.status == "running",
                    _LAPSED,
                )
                .values(
                    status="failed",
                    error_kind="Interrupted",
                    error="The run did not finish: its process stopped.",
                    finished_at=func.now(),
                    lease_owner=None,
                )
                .returning(ThreadRun.run_id)
            )
        ).all()
        if lapsed:
            await self.session.execute(
                delete(Message).where(Message.run_id.in_(lapsed), Message.status == "streaming")
            )
            for run_id in lapsed:
                await self.append_final_event(run_id, {**event, "run_id": str(run_id)})
        return lapsed

    async def append_final_event(self, run_id: uuid.UUID, event: dict[str, Any]) -> None:
        """`event` after the run's last stored one (its process cannot add more)."""
        await self.session.execute(text(_APPEND_EVENT_SQL), {"run_id": run_id, "events": json.dumps([event])})

    async def end(
        self,
        run_id: uuid.UUID,
        *,
        events: tuple[int, list[dict[str, Any]]] | None,
        dated: str | None = None,
        **values: Any,
    ) -> bool | None:
        """A running run's end, in one statement: the run (`values`: its status
        and more), its last `events` batch (`seq`, events), and with `dated`
        its messages stored before its first checkpoint given that one.
        Whether runs are queued behind it; None if it was not running (ended
        already, taken over, or gone), and then nothing is written."""
        ended = (
            update(ThreadRun)
            .where(ThreadRun.run_id == run_id, ThreadRun.status == "running")
            .values(lease_owner=None, finished_at=func.now(), **values)
            .returning(ThreadRun.run_id, ThreadRun.conversation_id)
            .cte("ended")
        )
        queued = (
            select(ThreadRun.run_id)
            .where(ThreadRun.conversation_id == ended.c.conversation_id, ThreadRun.status == "pending")
            .exists()
        )
        statement = select(queued).select_from(ended)
        if events is not None:
            seq, batch = events
            stored = select(ended.c.run_id, literal(seq), literal(batch, RunEvent.events.type))
            statement = statement.add_cte(
                insert(RunEvent).from_select([RunEvent.run_id, RunEvent.seq, RunEvent.events], stored).cte()
            )
        if dated is not None:
            undated = update(Message).where(
                Message.run_id == select(ended.c.run_id).scalar_subquery(),
                Message.checkpoint_id.is_(None),
                Message.status == "complete",
            )
            statement = statement.add_cte(undated.values(checkpoint_id=dated).cte())
        result: bool | None = await self.session.scalar(statement)
        return result

    async def delete_run(self, run_id: uuid.UUID) -> None:
        """The run and every record of it: its messages, and its events
        (cascade); the conversation's counters no longer count its messages."""
        await self.session.execute(delete(Message).where(Message.run_id == run_id))
        conversation_id = await self.session.scalar(
            delete(ThreadRun).where(ThreadRun.run_id == run_id).returning(ThreadRun.conversation_id)
        )
        conversation = await self.session.get(Conversation, conversation_id) if conversation_id else None
        if conversation is not None:
            await ConversationRepository(self.session, conversation.user_id).refresh_counters(conversation)

    async def add_events(self, run_id: uuid.UUID, seq: int, events: list[dict[str, Any]]) -> None:
        """A batch of the run's events, `seq` the number of its last."""
        self.session.add(RunEvent(run_id=run_id, seq=seq, events=events))
        await self.session.flush()

    @staticmethod
    def lease(run: ThreadRun, owner: uuid.UUID, seconds: float) -> None:
        """`run` runs, held by `owner` for `seconds` unless renewed."""
        run.status = "running"
        run.lease_owner = owner
        run.lease_expires_at = func.now() + timedelta(seconds=seconds)

    async def renew(self, owner: uuid.UUID, seconds: float) -> dict[uuid.UUID, str | None]:
        """Extend every lease `owner` holds; each run still held, with the
        cancel asked of it (a run missing was taken over, or deleted)."""
        rows = await self.session.execute(
            update(ThreadRun)
            .where(ThreadRun.lease_owner == owner, ThreadRun.status == "running")
            .values(lease_expires_at=func.now() + timedelta(seconds=seconds))
            .returning(ThreadRun.run_id, ThreadRun.cancel_action)
        )
        return {run_id: action for run_id, action in rows.all()}

    async def needing_attention(self, limit: int) -> Sequence[uuid.UUID]:
        """Conversations with a run whose lease ran out, or with runs queued
        and none running: what some process must act on."""
        return (await self.session.scalars(text(_NEEDING_ATTENTION_SQL), {"limit": limit})).all()


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
