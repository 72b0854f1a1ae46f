"""The internal stream of one chat run, written once; each wire format encodes it."""

from dataclasses import dataclass

from app.models import Message, ThreadRun


@dataclass(frozen=True)
class RunStarted:
    """The run, the user's message and the reply's place, empty and streaming,
    are stored: a client learns every id it reconciles its own copy with."""

    run: ThreadRun
    user_message: Message
    reply: Message


@dataclass(frozen=True)
class MessageStored:
    """The reply is complete in the history."""

    message: Message


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class RunSucceeded:
    run: ThreadRun


@dataclass(frozen=True)
class RunFailed:
    run_id: str
    kind: str
    detail: str


ChatEvent = RunStarted | Token | MessageStored | RunSucceeded | RunFailed
