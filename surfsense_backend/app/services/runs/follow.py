"""Following a run's events from whichever process executes it, and the
result the chat API's JSON reply gives once it ended.

The run executing here: its events in memory, each as it comes. Elsewhere
(another process, or a run that ended, or one still queued): the stored
batches, polled. Status and events are read in one statement, so a run seen
ended has its last event in the same read.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import CancelAction, Message, RunStatus
from app.models.run_status import FINAL
from app.services.conversations.errors import RunCancelled as RunWasCancelled
from app.services.conversations.errors import RunEndedWithError
from app.services.runs.event_log import Sequenced
from app.services.runs.events import (
    MessageStored,
    RunCancelled,
    RunFailed,
    RunInterrupted,
    RunStarted,
    from_json,
    is_final,
    message_json,
)
from app.services.runs.handle import RunHandle

_STATUS_AND_EVENTS_SQL = """
SELECT r.status, e.seq, e.events
FROM thread_runs r LEFT JOIN run_events e ON e.run_id = r.run_id AND e.seq > :after
WHERE r.run_id = :run_id
ORDER BY e.seq
"""

_LAST_EVENTS_SQL = "SELECT seq, events FROM run_events WHERE run_id = :run_id ORDER BY seq DESC LIMIT 1"


def unpack(seq: int, events: list[dict[str, object]]) -> list[Sequenced]:
    """A stored batch as numbered events; `seq` numbers its last."""
    first = seq - len(events) + 1
    return [(first + i, from_json(event)) for i, event in enumerate(events)]


class RunFollower:
    def __init__(
        self,
        statements: async_sessionmaker[AsyncSession],
        local: Callable[[uuid.UUID], RunHandle | None],
        poll_interval: float,
    ) -> None:
        self.statements = statements
        self.local = local
        self.poll_interval = poll_interval

    async def follow(self, run_id: uuid.UUID, after: int = 0) -> AsyncIterator[Sequenced]:
        """Events numbered above `after` until the run's end. A run removed
        (rolled back) ends as cancelled. A run that ended with events past
        `after` lost (its process died before storing them) ends with its
        last event, so a client that saw them still learns the end."""
        while True:
            if (handle := self.local(run_id)) is not None:
                async for item in handle.log.follow(after):
                    yield item
                return
            status, events = await self._read(run_id, after)
            if status is None:
                yield after + 1, RunCancelled(str(run_id), CancelAction.ROLLBACK)
                return
            for seq, event in events:
                yield seq, event
                after = seq
                if is_final(event):
                    return
            if status in FINAL and not events:
                if (last := await self._last(run_id)) is not None and last[0] < after and is_final(last[1]):
                    yield last
                return
            await asyncio.sleep(self.poll_interval)

    async def _read(self, run_id: uuid.UUID, after: int) -> tuple[str | None, list[Sequenced]]:
        async with self.statements() as session:
            rows = (
                await session.execute(text(_STATUS_AND_EVENTS_SQL), {"run_id": run_id, "after": after})
            ).all()
        if not rows:
            return None, []
        events = [item for row in rows if row.seq is not None for item in unpack(row.seq, row.events)]
        return rows[0].status, [(seq, event) for seq, event in events if seq > after]

    async def _last(self, run_id: uuid.UUID) -> Sequenced | None:
        async with self.statements() as session:
            row = (await session.execute(text(_LAST_EVENTS_SQL), {"run_id": run_id})).first()
        return unpack(row.seq, row.events)[-1] if row is not None else None


@dataclass(frozen=True)
class RunResult:
    """What a run that ended well gave, as the API shows it."""

    run_id: str
    status: str
    user_message: dict[str, Any] | None
    reply: dict[str, Any] | None
    interrupts: list[dict[str, Any]]


async def run_result(follower: RunFollower, run_id: uuid.UUID) -> RunResult:
    """Wait for the run's end: what it gave, or the error it ended with
    (the very error when it ran here, RunEndedWithError otherwise)."""
    handle = follower.local(run_id)
    user_message = reply = None
    async for _, event in follower.follow(run_id):
        match event:
            case RunStarted():
                user_message = event.user_message
            case MessageStored(message=message):
                reply = message
            case RunInterrupted(interrupts=interrupts):
                return RunResult(str(run_id), RunStatus.INTERRUPTED, user_message, None, interrupts)
            case RunCancelled(action=action):
                raise RunWasCancelled(action)
            case RunFailed(kind=kind, detail=detail):
                if handle is not None and handle.task is not None:
                    await handle.reply()  # raises the run's own error
                raise RunEndedWithError(kind, detail)
    if user_message is not None:
        # Dated with its checkpoint by the run's first step, after the event.
        user_message = await _current(follower, handle, int(user_message["id"]))
    return RunResult(str(run_id), RunStatus.SUCCEEDED, user_message, reply, [])


async def _current(follower: RunFollower, handle: RunHandle | None, message_id: int) -> dict[str, Any] | None:
    if handle is not None and handle.user_message is not None:
        return message_json(handle.user_message)
    async with follower.statements() as session:
        message = await session.get(Message, message_id)
        return message_json(message) if message is not None else None
