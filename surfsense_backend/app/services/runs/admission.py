"""Admitting a run under its conversation's lock: started at once when the
conversation is free, otherwise rejected, queued, or queued after cancelling
the active run (its multitask strategy); and the queue's next run started
when its turn comes. Everything here runs in its caller's unit of work; what
happens once that commits (a task started, a run here stopped) is in `Admitted`."""

import uuid
from dataclasses import dataclass, field

from langchain_core.messages import BaseMessage, ToolMessage
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.graph_agent import Waiting, not_run
from app.agents.registry import CompiledAssistants, InvalidResume
from app.models import CancelAction, Conversation, MultitaskStrategy, RunStatus, ThreadRun
from app.services.conversations.errors import (
    InterruptPending,
    InterruptsUnanswered,
    NoInterruptPending,
    RunInProgress,
    RunNotActive,
    RunNotFound,
    UnknownInterrupt,
)
from app.services.persistence import ConversationNotFound, ConversationStorage
from app.services.runs.branches import follow_branch
from app.services.runs.events import RunFailed, to_json
from app.services.runs.handle import RunHandle
from app.services.runs.interrupts import answers_for, checked_resume
from app.services.runs.local import LocalRuns
from app.services.runs.recorder import RunRecorder
from app.services.runs.repository import RunRepository
from app.services.runs.spec import RunSpec

# What the graph waits for decides these as a run starts: a queued run fails with them.
CANNOT_START = (
    InterruptPending,
    NoInterruptPending,
    UnknownInterrupt,
    InterruptsUnanswered,
    InvalidResume,
)
INTERRUPTED = "The run did not finish: its process stopped."


@dataclass(frozen=True)
class Admitted:
    """A run admitted in a unit of work, and what to do once it commits."""

    run: ThreadRun
    # Started now: its graph runs once the run is stored.
    started: RunHandle | None = None
    # Runs this one cancelled (its strategy), and how: stopped here at once if they run here.
    stopped: list[uuid.UUID] = field(default_factory=list)
    action: CancelAction | None = None
    # Queued behind runs no one has started yet: the queue's first starts.
    claim: bool = False


class Admission:
    def __init__(self, agents: CompiledAssistants, recorder: RunRecorder, local: LocalRuns) -> None:
        self.agents = agents
        self.recorder = recorder
        self.local = local

    async def admit(
        self, session: AsyncSession, user_id: uuid.UUID, conversation_id: uuid.UUID, spec: RunSpec
    ) -> Admitted:
        """The run `spec` asks for, started when the conversation is free.

        Otherwise its strategy decides: `reject` (RunInProgress, 409), `enqueue`
        (pending until the runs before it end), `interrupt` or `rollback` (the
        active runs are cancelled so, and this one goes next). New input while
        the graph waits at an interrupt is InterruptPending (409) unless the
        spec goes past interrupts (LangGraph drops them); a resume with nothing
        waiting is NoInterruptPending (409), one that does not answer each
        pending interrupt by id (when several wait) is InterruptsUnanswered or
        UnknownInterrupt (409); for a queued run, each is its failure when its
        turn comes."""
        storage = ConversationStorage(session, owner_id=user_id)
        for message in spec.messages():
            # Refused now (413, 422), not when a queued run's turn comes.
            storage.check_message(message)
        runs = RunRepository(session)
        found = await runs.lock_conversation(conversation_id, user_id)
        if found is None:
            raise ConversationNotFound(conversation_id)
        conversation, busy = found
        assistant = self.agents.registry.get(conversation.assistant_id)
        # Refused now (InvalidContext, 422), not when the graph first reads it.
        self.agents[assistant.id].client_context(spec.context, spec.configurable)
        resume = checked_resume(assistant, spec.resume) if spec.resumes else None
        spec = spec.for_run(conversation.assistant_id, resume)
        run = ThreadRun(
            conversation_id=conversation.id,
            user_id=user_id,
            # The message's blocks are in the spec (kwargs): not stored twice.
            prompt=spec.prompt(),
            resume=resume,
            kwargs=spec.to_json(),
        )
        running, pending = await self._active(runs, conversation.id) if busy else (None, [])
        if running is None and not pending:
            return Admitted(run, started=await self.start(session, storage, conversation, run, spec))
        strategy = spec.multitask_strategy
        if strategy == MultitaskStrategy.REJECT:
            raise RunInProgress
        stopped = await self._supersede(runs, running, pending, strategy.cancels)
        await runs.add(run, queued=True)
        return Admitted(run, stopped=stopped, action=strategy.cancels, claim=running is None)

    async def _active(
        self, runs: RunRepository, conversation_id: uuid.UUID
    ) -> tuple[ThreadRun | None, list[ThreadRun]]:
        """The conversation's running run and its queue; a running run whose
        lease ran out is marked interrupted first (its process died)."""
        active = await runs.active(conversation_id)
        lapsed = [run.run_id for run, expired in active if expired and run.status == RunStatus.RUNNING]
        if lapsed:
            await runs.fail_lapsed(lapsed, to_json(RunFailed("", "Interrupted", INTERRUPTED)))
        running = next((r for r, expired in active if r.status == RunStatus.RUNNING and not expired), None)
        return running, [r for r, _ in active if r.status == RunStatus.PENDING]

    async def _supersede(
        self,
        runs: RunRepository,
        running: ThreadRun | None,
        pending: list[ThreadRun],
        action: CancelAction | None,
    ) -> list[uuid.UUID]:
        """A newer run goes first (`action`; None: it waits its turn): queued
        runs are cancelled now, the running one is asked to stop (by its
        process, within a poll)."""
        if action is None:
            return []
        for run in pending:
            await self.recorder.cancel_pending(runs, run, action)
        if running is None:
            return []
        await runs.ask_cancel(running, action)
        return [running.run_id]

    async def start(
        self,
        session: AsyncSession,
        storage: ConversationStorage,
        conversation: Conversation,
        run: ThreadRun,
        spec: RunSpec,
    ) -> RunHandle:
        """Under the conversation's lock: check the run (`spec`: what it was
        admitted with) against what the graph waits for where it starts, take
        the history back there if that is an earlier checkpoint, then store the
        run running under this process's lease, with its messages and its first
        event."""
        assistant = self.agents.registry.get(conversation.assistant_id)
        agent = self.agents[assistant.id]
        at = spec.checkpoint_id
        # Read for every graph: whether it interrupts is its own business.
        waiting = await agent.waiting(conversation.thread_id, at)
        pending = waiting.interrupts
        answers = answers_for(assistant, run.resume, pending) if spec.resumes else {}
        if not spec.resumes and pending and not spec.past_interrupts:
            raise InterruptPending(pending[0].id, pending[0].value)
        if at is not None:
            await follow_branch(session, storage, conversation, agent, at)
        given = spec.messages()
        # Without new messages the graph goes on where it stopped (before its
        # tools node, say): its pending calls are its own to run, not "not run".
        unanswered = _unanswered(waiting, given) if given and not spec.resumes else []
        RunRepository(session).lease(run, self.local.owner, self.local.lease)
        handle = RunHandle(run, None, None, agent, waiting, unanswered=unanswered, answers=answers, spec=spec)
        # The calls the new input goes past are answered "not run" first, as its input will.
        opening = [*unanswered, *given]
        handle.user_message, handle.assistant_message, started = await self.recorder.start(
            session, storage=storage, conversation=conversation, run=run, opening=opening
        )
        handle.emit(started)
        return handle

    async def next_queued(self, session: AsyncSession, conversation_id: uuid.UUID) -> RunHandle | None:
        """The conversation's next queued run, started, if none is running. A
        queued run that cannot start (a message while the graph waits at an
        interrupt) fails, and the one after it is tried."""
        conversation = await session.get(Conversation, conversation_id, with_for_update=True)
        if conversation is None:
            return None
        runs = RunRepository(session)
        running, pending = await self._active(runs, conversation.id)
        for run in pending if running is None else []:
            try:
                # Each refusal comes before the start writes anything.
                return await self.start(
                    session, ConversationStorage(session), conversation, run, RunSpec.of(run)
                )
            except CANNOT_START as exc:
                await self.recorder.refuse_pending(runs, run, exc.kind, str(exc))
        return None

    async def cancel(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        conversation_id: uuid.UUID,
        run_id: uuid.UUID,
        action: CancelAction,
    ) -> ThreadRun:
        """Cancel the caller's pending run now, or ask a running one's process
        to stop it: RunNotFound unless the run is the caller's, in that
        conversation; RunNotActive if it ended."""
        runs = RunRepository(session)
        run = await runs.get_for_user(run_id, user_id, for_update=True)
        if run is None or run.conversation_id != conversation_id:
            raise RunNotFound(run_id)
        if run.status == RunStatus.PENDING:
            await self.recorder.cancel_pending(runs, run, action)
            if action != CancelAction.ROLLBACK:  # a rollback removed it
                await session.refresh(run)  # its end, dated by the database
        elif run.status == RunStatus.RUNNING:
            await runs.ask_cancel(run, action)
        else:
            raise RunNotActive(run_id, run.status)
        return run


def _unanswered(waiting: Waiting, given: list[BaseMessage]) -> list[ToolMessage]:
    """Results saying "not run" for the calls the state left without one,
    but those the input answers itself (agent-chat-ui sends a placeholder)."""
    answered = {m.tool_call_id for m in given if isinstance(m, ToolMessage)}
    return [
        not_run(call_id, waiting.calls[call_id][0])
        for call_id in waiting.unanswered
        if call_id not in answered
    ]
