"""Running an assistant's graph for a message or a resume, and recording the run honestly.

A run is admitted under its conversation's lock: started at once when the
conversation is free, otherwise rejected, queued, or queued after cancelling
the active run (the message's multitask strategy). Any process starts a
queued run when its turn comes, holding it under a lease it renews.

A run is recorded in short transactions: its start, one per graph step that
added messages a person sees (tool calls, tool results), its progress, and
its end (an answer, an interrupt the graph waits at, a failure or a cancel),
each with the run's events not stored yet. The graph runs in a task of its
own: a client that disconnects stops receiving events, not the run.
"""

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.agents.context import AgentContext
from app.agents.graph_agent import (
    Finished,
    GraphChunk,
    Paused,
    StepSaved,
    Token,
    ToolCalled,
    ToolFinished,
    Waiting,
    not_run,
)
from app.agents.registry import CompiledAssistants, InvalidResume
from app.db import session_scope
from app.db.content import Content, text_of
from app.errors import AppError, InternalError, first_line
from app.models import CancelAction, Conversation, Message, MultitaskStrategy, RunStatus, ThreadRun
from app.observability.background import background_failed
from app.services.conversations.errors import (
    AgentFailed,
    InterruptPending,
    InterruptsUnanswered,
    NoInterruptPending,
    RunEndedWithError,
    RunInProgress,
    RunLost,
    RunNotActive,
    RunNotFound,
    ServerStopping,
    UnknownInterrupt,
)
from app.services.conversations.errors import (
    RunCancelled as RunWasCancelled,
)
from app.services.persistence import (
    ConversationNotFound,
    ConversationStorage,
    DatabaseUnavailable,
    RetryPolicy,
    is_database_error,
    is_database_outage,
)
from app.services.runs.branches import follow_branch
from app.services.runs.event_log import Sequenced
from app.services.runs.events import (
    MessageStored,
    RunCancelled,
    RunFailed,
    RunInterrupted,
    RunStarted,
    StreamChunk,
    message_json,
    to_json,
)
from app.services.runs.follow import RunFollower
from app.services.runs.graph_request import GraphRequest
from app.services.runs.handle import LOST, RunHandle
from app.services.runs.interrupts import answers_for, checked_resume, jsonable
from app.services.runs.leases import LeaseKeeper
from app.services.runs.local import LocalRuns
from app.services.runs.progress import ReplyProgress
from app.services.runs.recorder import RunRecorder
from app.services.runs.repository import RunRepository

logger = logging.getLogger(__name__)

_NO_RESUME = object()
# What the graph waits for decides these as a run starts: a queued run fails with them.
_CANNOT_START = (
    InterruptPending,
    NoInterruptPending,
    UnknownInterrupt,
    InterruptsUnanswered,
    InvalidResume,
)
_INTERRUPTED = "The run did not finish: its process stopped."


@dataclass(frozen=True)
class RunResult:
    """What a run that ended well gave, as the API shows it."""

    run_id: str
    status: str
    user_message: dict[str, Any] | None
    reply: dict[str, Any] | None
    interrupts: list[dict[str, Any]]


class ChatRunner:
    """Admits, starts and executes runs; follows any run's events; cancels;
    on shutdown waits for its runs or marks them interrupted."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        reads: async_sessionmaker[AsyncSession],
        agents: CompiledAssistants,
        retry: RetryPolicy | None = None,
        *,
        lease: float = 10.0,
        poll_interval: float = 0.5,
        progress_interval: float = 0.25,
    ) -> None:
        self.sessions = sessions
        self.agents = agents
        self.retry = retry or RetryPolicy()
        self.progress_interval = progress_interval
        self.local = LocalRuns(lease)
        self.recorder = RunRecorder(sessions)
        # `reads`: sessions for single statements (polls, lease renewals).
        self.follower = RunFollower(reads, self.local.get, poll_interval)
        self.keeper = LeaseKeeper(self.local, reads, poll_interval, self.claim_next)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False

    def start_keeping_leases(self) -> None:
        self.keeper.start()

    async def submit(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        conversation_id: uuid.UUID,
        *,
        content: Content | None = None,
        resume: Any = _NO_RESUME,
        strategy: str = "reject",
        request: GraphRequest | None = None,
    ) -> ThreadRun:
        """A message (`content`) or an answer to the interrupt the graph waits
        at (`resume`): the run, started now when the conversation is free.

        Otherwise `strategy` decides: `reject` (RunInProgress, 409), `enqueue`
        (pending until the runs before it end), `interrupt` or `rollback` (the
        active runs are cancelled so, and this one goes next). A message while
        the graph waits at an interrupt is InterruptPending (409; an Agent
        Server run's input goes past it, as LangGraph does); a resume with
        nothing waiting is NoInterruptPending (409), one that does not answer
        each pending interrupt by id (when several wait) is
        InterruptsUnanswered or UnknownInterrupt (409); for a queued run, each
        is its failure when its turn comes.

        `request`: a run of the Agent Server API, whose input (instead of
        `content`) and stream modes it keeps.

        In the caller's transaction (a request's, opened to authenticate the
        caller), which this commits: a run starts only once it is stored, and
        no connection is held while the graph runs.
        """
        if self._stopping:
            raise ServerStopping
        stops: list[uuid.UUID] = []
        action = MultitaskStrategy(strategy).cancels
        handle = None
        storage = ConversationStorage(session, owner_id=user_id)
        if content is not None:
            # Before anything is written: the run row keeps the prompt too.
            storage.check_message({"role": "user", "content": content})
        for message in request.messages() if request is not None else ():
            # Refused now (413, 422), not when a queued run's turn comes.
            storage.check_message(message)
        runs = RunRepository(session)
        found = await runs.lock_conversation(conversation_id, user_id)
        if found is None:
            raise ConversationNotFound(conversation_id)
        conversation, busy = found
        assistant = self.agents.registry.get(conversation.assistant_id)
        if resume is not _NO_RESUME:
            resume = checked_resume(assistant, resume)
        run = ThreadRun(
            conversation_id=conversation.id,
            user_id=user_id,
            prompt=_prompt(content, resume, request),
            blocks=content if isinstance(content, list) else None,
            resume=None if resume is _NO_RESUME else resume,
            kwargs=request.to_json() if request is not None else None,
        )
        running, pending = await self._active(runs, conversation.id) if busy else (None, [])
        if running is None and not pending:
            handle = await self._start(session, storage, conversation, run)
        elif strategy == MultitaskStrategy.REJECT:
            raise RunInProgress
        else:
            if action is not None:
                stops = await self._supersede(runs, running, pending, action)
            await runs.add(run, queued=True)
        await session.commit()
        if handle is not None:
            self._launch(handle)
            return run
        if action is not None:
            self._stop_local(stops, action)
        if running is None:
            # Queued behind runs no one has started yet: start the first now.
            self._claim_soon(conversation_id)
        return run

    async def _active(
        self, runs: RunRepository, conversation_id: uuid.UUID
    ) -> tuple[ThreadRun | None, list[ThreadRun]]:
        """The conversation's running run and its queue; a running run whose
        lease ran out is marked interrupted first (its process died)."""
        active = await runs.active(conversation_id)
        lapsed = [run.run_id for run, expired in active if expired and run.status == RunStatus.RUNNING]
        if lapsed:
            await runs.fail_lapsed(lapsed, to_json(RunFailed("", "Interrupted", _INTERRUPTED)))
        running = next((r for r, expired in active if r.status == RunStatus.RUNNING and not expired), None)
        return running, [r for r, _ in active if r.status == RunStatus.PENDING]

    async def _supersede(
        self, runs: RunRepository, running: ThreadRun | None, pending: list[ThreadRun], action: CancelAction
    ) -> list[uuid.UUID]:
        """A newer message goes first: queued runs are cancelled now, the
        running one is asked to stop (by its process, within a poll)."""
        for run in pending:
            await self.recorder.cancel_pending(runs, run, action)
        if running is None:
            return []
        await runs.ask_cancel(running, action)
        return [running.run_id]

    def _stop_local(self, run_ids: list[uuid.UUID], action: CancelAction) -> None:
        """A run cancelled here stops now, not at the next heartbeat."""
        for run_id in run_ids:
            if (handle := self.local.handles.get(run_id)) is not None:
                handle.stop(action)

    async def _start(
        self, session: AsyncSession, storage: ConversationStorage, conversation: Conversation, run: ThreadRun
    ) -> RunHandle:
        """In the caller's transaction, under the conversation's lock: check
        the run against what the graph waits for where it starts, take the
        history back there if that is an earlier checkpoint, then store the run
        running under our lease, with its messages and its first event."""
        assistant = self.agents.registry.get(conversation.assistant_id)
        agent = self.agents[assistant.id]
        resumes = run.resume is not None
        request = GraphRequest.from_json(run.kwargs) if run.kwargs is not None else None
        at = request.checkpoint_id if request is not None else None
        # Read for every graph: whether it interrupts is its own business.
        waiting = await agent.waiting(conversation.thread_id, at)
        pending = waiting.interrupts
        answers = answers_for(assistant, run.resume, pending) if resumes else {}
        if not resumes and pending and request is None:
            # A chat message waits for the answer; the graph's own input (an
            # Agent Server run) goes past the interrupts, which LangGraph drops.
            raise InterruptPending(pending[0].id, pending[0].value)
        if at is not None:
            await follow_branch(session, storage, conversation, agent, at)
        given = _input_messages(run, request)
        unanswered = [] if resumes else self._unanswered(waiting, given)
        runs = RunRepository(session)
        runs.lease(run, self.local.owner, self.local.lease)
        handle = RunHandle(
            run, None, None, agent, waiting, unanswered=unanswered, answers=answers, request=request
        )
        # The calls the new input goes past are answered "not run" first, as its input will.
        opening = [*unanswered, *given]
        handle.user_message, handle.assistant_message, started = await self.recorder.start(
            session, storage=storage, conversation=conversation, run=run, opening=opening
        )
        handle.emit(started)
        return handle

    def _launch(self, handle: RunHandle) -> None:
        task = asyncio.create_task(self._execute(handle), name=f"chat-run-{handle.run.run_id}")
        handle._task = task
        self.local.handles[handle.run.run_id] = handle
        self._track(task)

    def _track(self, task: "asyncio.Task[Any]") -> None:
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _claim_soon(self, conversation_id: uuid.UUID) -> None:
        if not self._stopping:
            self._track(asyncio.create_task(self.claim_next(conversation_id), name="chat-claim"))

    async def claim_next(self, conversation_id: uuid.UUID) -> None:
        """Start the conversation's next queued run here, if none is running.
        A queued run that cannot start (a message while the graph waits at an
        interrupt) fails, and the one after it is tried."""
        while not self._stopping:
            async with session_scope(self.sessions) as session:
                conversation = await session.get(Conversation, conversation_id, with_for_update=True)
                if conversation is None:
                    return
                runs = RunRepository(session)
                running, pending = await self._active(runs, conversation.id)
                if running is not None or not pending:
                    return
                run = pending[0]
                try:
                    handle = await self._start(session, ConversationStorage(session), conversation, run)
                except _CANNOT_START as exc:
                    await self.recorder.refuse_pending(runs, run, exc.kind, str(exc))
                    continue
            self._launch(handle)
            return

    def _forget(self, task: "asyncio.Task[Any]") -> None:
        self._tasks.discard(task)
        # A streamed run has no one awaiting its outcome: an AppError was
        # explained (and logged) already and travelled in its events; anything
        # else escaped that and is a bug, logged here rather than dropped.
        if task.cancelled() or (exc := task.exception()) is None or isinstance(exc, AppError):
            return
        background_failed(logger, "chat_run", f"{task.get_name()} failed", exc)

    @staticmethod
    def _unanswered(waiting: Waiting, given: list[BaseMessage | dict[str, Any]]) -> list[ToolMessage]:
        """Results saying "not run" for the calls the state left without one,
        but those the input answers itself (agent-chat-ui sends a placeholder)."""
        answered = {m.tool_call_id for m in given if isinstance(m, ToolMessage)}
        return [
            not_run(call_id, waiting.calls[call_id][0])
            for call_id in waiting.unanswered
            if call_id not in answered
        ]

    def _graph_input(self, handle: RunHandle) -> Any:
        if handle.request is not None and not handle.resumes:
            return handle.request.graph_input(list(handle.unanswered))
        if not handle.resumes:
            return handle.agent.message_input(_content(handle.run), handle.unanswered)
        # One interrupt takes its answer; several (parallel branches) a map of answers by id.
        answers = handle.answers
        answer = next(iter(answers.values())) if len(answers) == 1 else answers
        if handle.request is not None:  # an Agent Server command may update and goto as it resumes
            return handle.request.command(answer)
        return handle.agent.resume(answer)

    async def _drive(self, handle: RunHandle, progress: ReplyProgress) -> Finished | Paused:
        """Run the graph: tokens and tool events to the listener, each step's
        messages to the history, progress of the reply beside."""
        run = handle.run
        context = AgentContext(run.user_id, run.conversation_id, self.sessions)
        request = handle.request
        stream = handle.agent.run(
            str(run.conversation_id),
            self._graph_input(handle),
            context=context,
            waiting=handle.waiting,
            run_id=str(run.run_id),
            chunks=request.graph_modes if request else (),
            subgraphs=request.stream_subgraphs if request else False,
            stops=(request.interrupt_before, request.interrupt_after) if request else (None, None),
            checkpoint_id=request.checkpoint_id if request else None,
        )
        async for event in stream:
            match event:
                case GraphChunk(mode=mode, ns=ns, payload=payload):
                    handle.emit(StreamChunk(mode, list(ns), jsonable(payload)))
                    progress.poke()
                case Token(text=text):
                    handle.emit(event)
                    progress.add(text)
                case ToolCalled() | ToolFinished():
                    handle.emit(event)
                    progress.poke()
                case StepSaved():
                    await self._step_saved(handle, progress, event)
                case Finished() | Paused():
                    return event
        raise RuntimeError("the graph's stream ended without an outcome")

    async def _step_saved(self, handle: RunHandle, progress: ReplyProgress, step: StepSaved) -> None:
        """Store what a step added, except an answer that may be the run's last
        (held until the run ends, so a plain chat turn stores it once). A
        resumed run's first step, messages or not, has taken the answer."""
        if handle.waiting and handle.waiting.checkpoint_id == step.checkpoint_id:
            return  # the checkpoint the resumed graph starts from, seen again
        if step.source != "input":
            # The run's input (the user's message, the results for calls it went
            # past) is in the graph's state from its first step on, so in the
            # history up to any checkpoint a run may go on from there.
            handle._input_checkpoint = handle._input_checkpoint or step.checkpoint_id
        items = [(m, step.checkpoint_id) for m in step.messages]
        if handle._held is not None and items:
            items.insert(0, handle._held)
            handle._held = None
        if items and isinstance(items[-1][0], AIMessage) and not items[-1][0].tool_calls:
            handle._held = items.pop()  # type: ignore[assignment]
        if items or (handle.resumes and not handle._answered):
            await self.retry.run(
                lambda: self.recorder.step(handle, progress, items, step.args), what="storing a step"
            )

    async def _execute(self, handle: RunHandle) -> Message | None:
        run = handle.run
        reply_id = handle.assistant_message.id if handle.assistant_message else None
        progress = ReplyProgress(
            self.sessions, run.conversation_id, run.run_id, reply_id, self.progress_interval, log=handle.log
        )
        progress.poke()  # the start event is stored within an interval, if nothing sooner stores it
        try:
            try:
                outcome = await self._drive(handle, progress)
            finally:
                await progress.close()
            handle.ending = True
            if isinstance(outcome, Paused):
                await self._pause(handle, progress, outcome)
                return None
            return await self._succeed(handle, progress, outcome)
        except asyncio.CancelledError:
            if handle.cancel_action is None:  # the server is stopping
                await asyncio.shield(
                    self._fail(
                        handle, progress, "Interrupted", "The server stopped before the reply was done."
                    )
                )
                raise
            # Cancelled by us, on request: the task ends normally.
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            await self._cancelled(handle, progress)
            return None
        except RunLost:
            self._lost(handle)
            return None
        except AppError as exc:
            await self._fail(handle, progress, exc.kind, str(exc))
            raise
        except Exception as exc:
            error = await self._explain(run, exc)
            if isinstance(error, AgentFailed):
                await self._fail(handle, progress, error.error_kind, error.reason)
            else:
                await self._fail(handle, progress, error.kind, str(error))
            raise error from exc
        finally:
            if not handle.log.ended:
                # Whatever went wrong recording the end, every stream ends.
                handle.emit(
                    RunFailed(str(run.run_id), "InternalError", "The run's end could not be recorded.")
                )
            self.local.handles.pop(run.run_id, None)
            if handle.queued:
                self._claim_soon(run.conversation_id)

    async def _cancelled(self, handle: RunHandle, progress: ReplyProgress) -> None:
        handle.ending = True
        if handle.cancel_action == LOST:
            conversation_id = handle.run.conversation_id
            if not await self._conversation_exists(conversation_id):
                # Deleted meanwhile: its rows went with it, the run ends so.
                error = ConversationNotFound(conversation_id)
                handle.emit(RunFailed(str(handle.run.run_id), error.kind, str(error)))
                raise error
            self._lost(handle)
        elif handle.cancel_action == CancelAction.ROLLBACK:
            handle.emit(
                await self.retry.run(lambda: self.recorder.roll_back(handle), what="rolling back a run")
            )
        else:
            handle.emit(
                await self.retry.run(lambda: self.recorder.cancel(handle, progress), what="cancelling a run")
            )

    @staticmethod
    def _lost(handle: RunHandle) -> None:
        """Another process marked the run interrupted (its lease ran out while
        this one stalled): nothing more is recorded, the streams here end."""
        logger.warning("run %s was taken over after its lease ran out; stopped", handle.run.run_id)
        handle.emit(RunFailed(str(handle.run.run_id), "Interrupted", _INTERRUPTED))

    async def _explain(self, run: ThreadRun, exc: Exception) -> AppError:
        """The error a client is told, and logged once: never SQL, constraint
        names or driver text, which say nothing to a client and may carry data."""
        if is_database_outage(exc):
            logger.warning("run %s failed: the database was unavailable (%s)", run.run_id, type(exc).__name__)
            return DatabaseUnavailable("The database was unavailable during the run; try again shortly.")
        if is_database_error(exc) or isinstance(exc, SQLAlchemyError):
            # Deleted while the run went on: its rows went with the conversation.
            if not await self._conversation_exists(run.conversation_id):
                logger.info("run %s ended: its conversation was deleted meanwhile", run.run_id)
                return ConversationNotFound(run.conversation_id)
            background_failed(logger, "chat_run", f"run {run.run_id} failed storing its work", exc)
            return InternalError()
        # The model or the graph: its provider's sentence is what a person can act on.
        logger.warning("run %s failed: %s", run.run_id, type(exc).__name__)
        # Capped: it is stored with the run and shown in its stream.
        return AgentFailed(type(exc).__name__, first_line(exc)[:500])

    async def _conversation_exists(self, conversation_id: uuid.UUID) -> bool:
        try:
            async with session_scope(self.sessions) as session:
                return await session.get(Conversation, conversation_id) is not None
        except Exception as exc:
            if not is_database_outage(exc):
                raise
            return True  # unknown: say what failed, not that it is gone

    async def _succeed(self, handle: RunHandle, progress: ReplyProgress, outcome: Finished) -> Message | None:
        reply, events = await self.retry.run(
            lambda: self.recorder.finish(handle, progress, outcome), what="recording a reply"
        )
        for event in events:
            handle.emit(event)
        return reply

    async def _pause(self, handle: RunHandle, progress: ReplyProgress, outcome: Paused) -> None:
        event = await self.retry.run(
            lambda: self.recorder.pause(handle, progress, outcome), what="recording an interrupt"
        )
        handle.emit(event)

    async def _fail(self, handle: RunHandle, progress: ReplyProgress, kind: str, detail: str) -> None:
        handle.emit(await self.recorder.fail(handle, progress, kind, detail))

    def follow(self, run_id: uuid.UUID, after: int = 0) -> AsyncIterator[Sequenced]:
        """The run's events numbered above `after`, then each as it comes,
        wherever the run executes; the last is the run's end."""
        return self.follower.follow(run_id, after)

    async def result(self, run: ThreadRun) -> RunResult:
        """Wait for the run's end: what it gave, or the error it ended with
        (the very error when it ran here, RunEndedWithError otherwise)."""
        handle = self.local.handles.get(run.run_id)
        user_message = reply = None
        async for _, event in self.follow(run.run_id):
            match event:
                case RunStarted():
                    user_message = event.user_message
                case MessageStored(message=message):
                    reply = message
                case RunInterrupted(interrupts=interrupts):
                    return RunResult(str(run.run_id), RunStatus.INTERRUPTED, user_message, None, interrupts)
                case RunCancelled(action=action):
                    raise RunWasCancelled(action)
                case RunFailed(kind=kind, detail=detail):
                    if handle is not None and handle._task is not None:
                        await handle.reply()  # raises the run's own error
                    raise RunEndedWithError(kind, detail)
        if user_message is not None:
            # Dated with its checkpoint by the run's first step, after the event.
            user_message = await self._current(handle, int(user_message["id"]))
        return RunResult(str(run.run_id), RunStatus.SUCCEEDED, user_message, reply, [])

    async def _current(self, handle: RunHandle | None, message_id: int) -> dict[str, Any] | None:
        if handle is not None and handle.user_message is not None:
            return message_json(handle.user_message)
        async with self.follower.reads() as session:
            message = await session.get(Message, message_id)
            return message_json(message) if message is not None else None

    async def cancel(self, run: ThreadRun, action: CancelAction) -> None:
        """Cancel a pending run now, or ask a running one's process to stop
        it (this process stops its own at once); RunNotActive if it ended."""
        async with session_scope(self.sessions) as session:
            locked = await session.get(ThreadRun, run.run_id, with_for_update=True)
            if locked is None:
                raise RunNotFound(run.run_id)
            runs = RunRepository(session)
            if locked.status == RunStatus.PENDING:
                await self.recorder.cancel_pending(runs, locked, action)
            elif locked.status == RunStatus.RUNNING:
                await runs.ask_cancel(locked, action)
            else:
                raise RunNotActive(run.run_id, locked.status)
        self._stop_local([run.run_id], action)

    def when_ended(self, run_id: uuid.UUID, then: Callable[[], Awaitable[None]]) -> None:
        """Call `then` once the run has ended, wherever it runs (in a task of its own)."""

        async def waiting() -> None:
            async for _ in self.follow(run_id):
                pass
            await then()

        self._track(asyncio.create_task(waiting(), name=f"chat-after-{run_id}"))

    def cancel_soon(self, run: ThreadRun, action: CancelAction) -> None:
        """`cancel`, in a task of its own: for a caller that is being cancelled
        itself (a stream whose client left). A run that ended meanwhile stays as it is."""
        if not self._stopping:
            self._track(asyncio.create_task(self.cancel(run, action), name=f"chat-cancel-{run.run_id}"))

    async def shutdown(self, grace: float) -> None:
        """Refuse new runs; let those in flight finish for `grace` seconds, then
        interrupt them, which ends their streams with an `Interrupted` error."""
        self._stopping = True
        await self.keeper.stop()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _prompt(content: Content | None, resume: Any, request: GraphRequest | None) -> str:
    """What the run's record shows it was asked."""
    if content is not None:
        return text_of(content)
    if resume is not _NO_RESUME:
        return json.dumps(resume, ensure_ascii=False)
    assert request is not None  # noqa: S101 - submit takes content, resume or a request
    return request.prompt()


def _input_messages(run: ThreadRun, request: GraphRequest | None) -> list[BaseMessage | dict[str, Any]]:
    """The messages a run brings (the history stores them as it starts)."""
    if run.resume is not None:
        return []
    if request is not None:
        return list(request.messages())
    return [{"role": "user", "content": _content(run)}]


def _content(run: ThreadRun) -> Content:
    """A chat-API run's message: its blocks, or its text."""
    return run.blocks if run.blocks is not None else run.prompt


__all__ = ["ChatRunner", "RunHandle"]
