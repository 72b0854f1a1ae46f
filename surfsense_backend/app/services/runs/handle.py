"""One run in progress in this process, as its runner and its streams see it."""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage

from app.agents.graph_agent import GraphAgent, Waiting
from app.models import Message, ThreadRun
from app.services.runs.event_log import EventLog
from app.services.runs.events import ChatEvent
from app.services.runs.spec import RunSpec

# Why a run's task was cancelled, besides the server stopping: a cancel
# request's action, or "lost" when its lease was taken over.
LOST = "lost"


@dataclass
class Recorded:
    """What of a run's work the history holds so far: kept by the recorder, so
    that each transaction stores only what the last did not."""

    # The root checkpoint the run's input went in at: the first it saved.
    input_checkpoint: str | None = None
    # Whether the run's input messages are dated with it (committed).
    input_dated: bool = False
    # Whether the interrupts a resume answers (or new input goes past) are marked so (committed).
    answered: bool = False
    # An answer without tool calls, stored when the run ends (or when another step follows it).
    held: tuple[AIMessage, str] | None = None

    def undated(self) -> str | None:
        """The checkpoint the run's input went in at, if its messages do not have it yet."""
        return None if self.input_dated else self.input_checkpoint


@dataclass
class RunHandle:
    """One run executing here: its stored messages, its events, its outcome."""

    run: ThreadRun
    # None on a run that resumes an interrupt.
    user_message: Message | None
    # The reply streaming at the run's start (a new message's run); deleted if the run fails.
    assistant_message: Message | None
    agent: GraphAgent
    # What the graph waits for, read before a run of an assistant that interrupts.
    waiting: Waiting | None
    # Results for the calls a new message goes past ("not run"): stored, and sent to the graph.
    unanswered: list[ToolMessage] = field(default_factory=list)
    # A resume's answer to each interrupt it resumes, by interrupt id, checked as it started.
    answers: dict[str, Any] = field(default_factory=dict)
    # What the run was asked to do, read once from the run's record.
    spec: RunSpec = field(default_factory=RunSpec)
    recorded: Recorded = field(default_factory=Recorded)
    log: EventLog = field(default_factory=EventLog)
    # Set when the run is cancelled: interrupt, rollback, or LOST.
    cancel_action: str | None = None
    # The run is recording its outcome: too late to cancel, and its lease may end any moment.
    ending: bool = False
    # Whether runs may be queued behind it: its end starts the next one. Its
    # succeeding end reads it; any other end assumes so.
    queued: bool = True
    # The task executing the graph, once started.
    task: asyncio.Task[Message | None] | None = None

    @property
    def resumes(self) -> bool:
        return self.run.resume is not None

    @property
    def goes_past(self) -> bool:
        """New input where the graph waited at interrupts: LangGraph drops them."""
        return not self.resumes and self.waiting is not None and bool(self.waiting.interrupts)

    def emit(self, event: ChatEvent) -> None:
        self.log.append(event)

    def stop(self, action: str) -> bool:
        """Cancel the run's task with `action`; False if it is already recording its end."""
        if self.ending or self.task is None or self.task.done() or self.cancel_action is not None:
            return False
        self.cancel_action = action
        self.task.cancel()
        return True

    async def reply(self) -> Message | None:
        """The stored reply (None when the run stopped at an interrupt or was
        cancelled), or the error it failed with; waiting does not tie the run
        to the caller."""
        assert self.task is not None  # noqa: S101 - set as the run starts
        return await asyncio.shield(self.task)
