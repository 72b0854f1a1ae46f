"""The internal stream of one chat run, written once; each wire format encodes it."""

from dataclasses import dataclass

from app.models import Message, ThreadRun


@dataclass(frozen=True)
class MessageStored:
    """A message of the run is in the history (the user's first, the reply last)."""

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


ChatEvent = MessageStored | Token | RunSucceeded | RunFailed
