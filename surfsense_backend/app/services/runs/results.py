"""A run's result as the chat API's JSON reply gives it: wait for the run's
end, wherever it runs, and read what it gave from its events."""

import uuid
from dataclasses import dataclass
from typing import Any

from app.models import Message, RunStatus
from app.services.conversations.errors import RunCancelled as RunWasCancelled
from app.services.conversations.errors import RunEndedWithError
from app.services.runs.events import (
    MessageStored,
    RunCancelled,
    RunFailed,
    RunInterrupted,
    RunStarted,
    message_json,
)
from app.services.runs.follow import RunFollower
from app.services.runs.handle import RunHandle


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
