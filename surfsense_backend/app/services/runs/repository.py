"""Every write of `thread_runs` and `run_events`, and the reads of runs the
engine and both APIs make. A status changes only here, by a move
`RunStatus` allows; a bulk update says in its WHERE clause which status it
moves from. Flushes, never commits."""

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Boolean, delete, func, insert, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import CancelAction, Conversation, Message, RunEvent, RunStatus, ThreadRun
from app.models.run_status import ACTIVE
from app.services.messages.repository import MessageRepository, dating

_INTERRUPTED = "The run did not finish: its process stopped."

# A fork's copies of the runs its copied messages belong to, under the new
# ids given; a run still active is not copied (its messages keep no run).
_COPY_RUNS_SQL = """
INSERT INTO thread_runs (run_id, conversation_id, user_id, prompt, status, error_kind, error,
                         checkpoint_id, started_at, finished_at)
SELECT renamed.fork_run, :target, r.user_id, r.prompt, r.status, r.error_kind, r.error,
       r.checkpoint_id, r.started_at, r.finished_at
FROM thread_runs r
JOIN unnest(CAST(:sources AS uuid[]), CAST(:forks AS uuid[])) AS renamed(source_run, fork_run)
  ON renamed.source_run = r.run_id
WHERE r.status NOT IN ('pending', 'running')
RETURNING run_id
"""

_APPEND_EVENT_SQL = """
INSERT INTO run_events (run_id, seq, events)
SELECT :run_id, COALESCE(max(seq), 0) + 1, CAST(:events AS json) FROM run_events WHERE run_id = :run_id
"""

# Batched: the rest go at the next sweep.
_EXPIRE_EVENTS_SQL = """
DELETE FROM run_events WHERE (run_id, seq) IN (
    SELECT e.run_id, e.seq FROM run_events e JOIN thread_runs r ON r.run_id = e.run_id
    WHERE r.finished_at < now() - make_interval(secs => CAST(:hours AS double precision) * 3600)
    LIMIT :limit
)
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
            .where(ThreadRun.conversation_id == conversation_id, ThreadRun.status.in_(ACTIVE))
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
                    ThreadRun.status == RunStatus.RUNNING,
                    _LAPSED,
                )
                .values(
                    status=RunStatus.FAILED,
                    error_kind="Interrupted",
                    error=_INTERRUPTED,
                    finished_at=func.now(),
                    lease_owner=None,
                )
                .returning(ThreadRun.run_id)
            )
        ).all()
        if lapsed:
            await MessageRepository(self.session).discard_replies_of(lapsed)
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
            .where(ThreadRun.run_id == run_id, ThreadRun.status == RunStatus.RUNNING)
            .values(lease_owner=None, finished_at=func.now(), **values)
            .returning(ThreadRun.run_id, ThreadRun.conversation_id)
            .cte("ended")
        )
        queued = (
            select(ThreadRun.run_id)
            .where(
                ThreadRun.conversation_id == ended.c.conversation_id, ThreadRun.status == RunStatus.PENDING
            )
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
            statement = statement.add_cte(dating(select(ended.c.run_id).scalar_subquery(), dated).cte())
        result: bool | None = await self.session.scalar(statement)
        return result

    async def delete_run(self, run_id: uuid.UUID) -> None:
        """The run and every record of it: its messages (no longer counted by
        their conversation), and its events (cascade)."""
        await MessageRepository(self.session).delete_run(run_id)
        await self.session.execute(delete(ThreadRun).where(ThreadRun.run_id == run_id))

    async def expire_events(self, hours: float, limit: int) -> int:
        """Delete at most `limit` event batches of the runs that ended over
        `hours` ago, of any user (the retention sweep's); the runs stay."""
        result = await self.session.execute(text(_EXPIRE_EVENTS_SQL), {"hours": hours, "limit": limit})
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def add_events(self, run_id: uuid.UUID, seq: int, events: list[dict[str, Any]]) -> None:
        """A batch of the run's events, `seq` the number of its last."""
        self.session.add(RunEvent(run_id=run_id, seq=seq, events=events))
        await self.session.flush()

    @staticmethod
    def lease(run: ThreadRun, owner: uuid.UUID, seconds: float) -> None:
        """`run` runs, held by `owner` for `seconds` unless renewed."""
        _move(run, RunStatus.RUNNING)
        run.lease_owner = owner
        run.lease_expires_at = func.now() + timedelta(seconds=seconds)

    async def add(self, run: ThreadRun, *, queued: bool = False) -> None:
        """A new run: running (its lease is taken as it starts), or `queued`
        behind the conversation's active run."""
        if queued:
            run.status = RunStatus.PENDING
        self.session.add(run)
        await self.session.flush()

    async def ask_cancel(self, run: ThreadRun, action: CancelAction) -> None:
        """A running run is asked to stop: its holder acts on it within a poll."""
        run.cancel_action = action
        await self.session.flush()

    @staticmethod
    def pause(run: ThreadRun, checkpoint_id: str | None, interrupts: list[dict[str, Any]]) -> None:
        """The graph waits at `interrupts` (`{"id", "value"}`): the run ends interrupted."""
        _move(run, RunStatus.INTERRUPTED)
        run.checkpoint_id, run.interrupts = checkpoint_id, interrupts
        _ended(run)

    @staticmethod
    def cancel(run: ThreadRun) -> None:
        """Stopped on request, keeping what it did; a pending run never started."""
        _move(run, RunStatus.CANCELLED)
        _ended(run)

    @staticmethod
    def fail(run: ThreadRun, kind: str, detail: str) -> None:
        _move(run, RunStatus.FAILED)
        run.error_kind, run.error = kind, detail
        _ended(run)

    @staticmethod
    def give_feedback(run: ThreadRun, sentiment: str | None, comment: str | None) -> None:
        run.sentiment = sentiment
        run.comment = comment if sentiment is not None else None

    async def copy_for_fork(
        self, run_ids: Sequence[uuid.UUID], target: uuid.UUID
    ) -> Mapping[uuid.UUID, uuid.UUID]:
        """The ended runs of `run_ids`, copied into conversation `target` under
        new ids (feedback stays with the originals): each original's copy."""
        forks = {run_id: uuid.uuid4() for run_id in run_ids}
        copied = await self.session.scalars(
            text(_COPY_RUNS_SQL),
            {"target": target, "sources": list(forks), "forks": list(forks.values())},
        )
        made = set(copied.all())
        return {source: fork for source, fork in forks.items() if fork in made}

    async def renew(self, owner: uuid.UUID, seconds: float) -> dict[uuid.UUID, str | None]:
        """Extend every lease `owner` holds; each run still held, with the
        cancel asked of it (a run missing was taken over, or deleted)."""
        rows = await self.session.execute(
            update(ThreadRun)
            .where(ThreadRun.lease_owner == owner, ThreadRun.status == RunStatus.RUNNING)
            .values(lease_expires_at=func.now() + timedelta(seconds=seconds))
            .returning(ThreadRun.run_id, ThreadRun.cancel_action)
        )
        return {run_id: action for run_id, action in rows.all()}

    async def needing_attention(self, limit: int) -> Sequence[uuid.UUID]:
        """Conversations with a run whose lease ran out, or with runs queued
        and none running: what some process must act on."""
        return (await self.session.scalars(text(_NEEDING_ATTENTION_SQL), {"limit": limit})).all()


class RunMoveRefused(Exception):
    """A status change `RunStatus` does not allow: a fault in the engine, not the caller's."""

    def __init__(self, run_id: uuid.UUID, old: RunStatus, new: RunStatus) -> None:
        super().__init__(f"run {run_id} cannot go from {old} to {new}")


def _ended(run: ThreadRun) -> None:
    run.finished_at = func.now()
    run.lease_owner = None


def _move(run: ThreadRun, status: RunStatus) -> None:
    # A run not stored yet has no status to move from.
    if run.status is not None and not run.status.can_become(status):
        raise RunMoveRefused(run.run_id, run.status, status)
    run.status = status
