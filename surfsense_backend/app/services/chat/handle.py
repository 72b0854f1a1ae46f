"""One run in progress, as its runner and its streams see it."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from langchain_core.messages import AIMessage, ToolMessage

from app.agents.graph_agent import GraphAgent, Waiting
from app.models import Message, ThreadRun
from app.services.chat.events import ChatEvent


@dataclass
class RunHandle:
    """One run in progress: its stored messages, its events, its outcome."""

    run: ThreadRun
    # None on a run that resumes an interrupt.
    user_message: Message | None
    # The reply streaming at the run's start (a new message's run); deleted if the run fails.
    assistant_message: Message | None
    agent: GraphAgent
    # What the graph waits for, read before a run of an assistant that interrupts.
    waiting: Waiting | None
    interrupts: list[Message] = field(default_factory=list)
    # Results for the calls a new message goes past ("not run"): stored, and sent to the graph.
    unanswered: list[ToolMessage] = field(default_factory=list)
    _events: asyncio.Queue[ChatEvent | None] = field(default_factory=asyncio.Queue)
    _listening: bool = True
    _task: asyncio.Task[Message | None] | None = None
    # The root checkpoint the user's message went in at; set by the first step.
    _input_checkpoint: str | None = None
    # An answer without tool calls, stored when the run ends (or when another step follows it).
    _held: tuple[AIMessage, str] | None = None
    _user_noted: bool = False
    _answered: bool = False

    @property
    def resumes(self) -> bool:
        return self.run.resume is not None

    def emit(self, event: ChatEvent | None) -> None:
        if self._listening:
            self._events.put_nowait(event)

    async def events(self) -> AsyncIterator[ChatEvent]:
        """Every event of the run, ending with RunSucceeded, RunInterrupted or RunFailed."""
        try:
            while (event := await self._events.get()) is not None:
                yield event
        finally:
            # A departed listener: stop queueing, let the run finish on its own.
            self._listening = False

    async def reply(self) -> Message | None:
        """The stored reply (None when the run stopped at an interrupt), or
        AgentFailed; waiting does not tie the run to the caller."""
        assert self._task is not None  # noqa: S101 - set by ChatRunner.start
        return await asyncio.shield(self._task)
