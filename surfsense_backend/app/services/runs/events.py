"""The internal stream of one chat run, written once; each wire format encodes it.

Events carry what a client is shown as JSON (stored messages as the API
renders them), so they are stored as they are and a replay from the database
encodes exactly what the live stream did.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

from app.agents.graph_agent import Token, ToolCalled, ToolFinished
from app.models import Message
from app.schemas.conversations import MessageOut

Json = dict[str, Any]


def message_json(message: Message) -> Json:
    """A stored message as the API shows it."""
    return MessageOut.model_validate(message).model_dump(mode="json")


@dataclass(frozen=True)
class RunStarted:
    """The run and the user's message are stored; for a new message, so is the
    reply's place, empty and streaming. A client learns every id it reconciles
    its own copy with. A run that resumes an interrupt has neither message."""

    run_id: str
    user_message: Json | None
    reply: Json | None


@dataclass(frozen=True)
class MessageStored:
    """The reply is complete in the history."""

    message: Json


@dataclass(frozen=True)
class RunSucceeded:
    run_id: str
    checkpoint_id: str | None


@dataclass(frozen=True)
class RunInterrupted:
    """The graph waits for a person: its questions (stored messages) are in the history."""

    run_id: str
    checkpoint_id: str | None
    interrupts: list[Json]


@dataclass(frozen=True)
class RunFailed:
    run_id: str
    kind: str
    detail: str


@dataclass(frozen=True)
class RunCancelled:
    """Stopped on request: `interrupt` kept the steps it completed, `rollback` left no trace."""

    run_id: str
    action: str


@dataclass(frozen=True)
class StreamChunk:
    """A part of the graph's own stream (a mode an Agent Server client asked
    for), as JSON; the chat API's formats leave it out."""

    mode: str
    ns: list[str]
    data: Any


ChatEvent = (
    RunStarted
    | Token
    | ToolCalled
    | ToolFinished
    | MessageStored
    | RunSucceeded
    | RunInterrupted
    | RunFailed
    | RunCancelled
    | StreamChunk
)
FINAL_EVENTS = (RunSucceeded, RunInterrupted, RunFailed, RunCancelled)

# The names events are stored under: part of the stored format, never renamed.
_NAMES: dict[type[Any], str] = {
    RunStarted: "started",
    Token: "token",
    ToolCalled: "tool-call",
    ToolFinished: "tool-result",
    MessageStored: "message",
    RunSucceeded: "succeeded",
    RunInterrupted: "interrupted",
    RunFailed: "failed",
    RunCancelled: "cancelled",
    StreamChunk: "chunk",
}
_TYPES = {name: cls for cls, name in _NAMES.items()}


def is_final(event: ChatEvent) -> bool:
    return isinstance(event, FINAL_EVENTS)


def to_json(event: ChatEvent) -> Json:
    return {"type": _NAMES[type(event)], **dataclasses.asdict(event)}


def from_json(data: Json) -> ChatEvent:
    fields = dict(data)
    event: ChatEvent = _TYPES[fields.pop("type")](**fields)
    return event


__all__ = [
    "FINAL_EVENTS",
    "ChatEvent",
    "MessageStored",
    "RunCancelled",
    "RunFailed",
    "RunInterrupted",
    "RunStarted",
    "RunSucceeded",
    "StreamChunk",
    "Token",
    "ToolCalled",
    "ToolFinished",
    "from_json",
    "is_final",
    "message_json",
    "to_json",
]
