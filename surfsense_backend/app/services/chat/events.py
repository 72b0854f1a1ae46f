"""The internal stream of one chat run, written once; each wire format encodes it."""

from dataclasses import dataclass

from app.agents.graph_agent import Token, ToolCalled, ToolFinished
from app.models import Message, ThreadRun


@dataclass(frozen=True)
class RunStarted:
    """The run and the user's message are stored; for a new message, so is the
    reply's place, empty and streaming. A client learns every id it reconciles
    its own copy with. A run that resumes an interrupt has neither message."""

    run: ThreadRun
    user_message: Message | None
    reply: Message | None


@dataclass(frozen=True)
class MessageStored:
    """The reply is complete in the history."""

    message: Message


@dataclass(frozen=True)
class RunSucceeded:
    run: ThreadRun


@dataclass(frozen=True)
class RunInterrupted:
    """The graph waits for a person: its questions are in the history."""

    run: ThreadRun
    interrupts: list[Message]


@dataclass(frozen=True)
class RunFailed:
    run_id: str
    kind: str
    detail: str


ChatEvent = (
    RunStarted | Token | ToolCalled | ToolFinished | MessageStored | RunSucceeded | RunInterrupted | RunFailed
)

__all__ = [
    "ChatEvent",
    "MessageStored",
    "RunFailed",
    "RunInterrupted",
    "RunStarted",
    "RunSucceeded",
    "Token",
    "ToolCalled",
    "ToolFinished",
]
