"""Running an assistant's graph for a message or a resume, and recording the run honestly.

A run is recorded in short transactions: before (the run, marked running,
and the user's message), one per graph step that added messages a person
sees (tool calls, tool results), and after (the reply and the outcome: an
answer, or the interrupt the graph waits at). The graph runs in a task of
its own: a client that disconnects stops receiving events, not the run, so
a run always ends as succeeded, interrupted or failed.
"""

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.agents.context import AgentContext
from app.agents.graph_agent import (
    Finished,
    Paused,
    StepSaved,
    Token,
    ToolCalled,
    ToolFinished,
    Waiting,
    not_run,
)
from app.agents.registry import CompiledAssistants
from app.db import session_scope
from app.errors import AppError, InternalError, first_line
from app.models import Conversation, Message, ThreadRun
from app.observability.background import background_failed
from app.services.chat.events import (
    MessageStored,
    RunFailed,
    RunInterrupted,
    RunStarted,
    RunSucceeded,
)
from app.services.chat.handle import RunHandle
from app.services.chat.progress import ReplyProgress
from app.services.chat.recorder import RunRecorder
from app.services.conversations.errors import (
    AgentFailed,
    InterruptPending,
    NoInterruptPending,
    RunInProgress,
    ServerStopping,
)
from app.services.conversations.repository import RunRepository
from app.services.persistence import (
    ConversationNotFound,
    ConversationStorage,
    DatabaseUnavailable,
    RetryPolicy,
    is_database_error,
    is_database_outage,
)

logger = logging.getLogger(__name__)

_NO_RESUME = object()


class ChatRunner:
    """Starts runs, and on shutdown waits for them or marks them interrupted."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        agents: CompiledAssistants,
        run_timeout: float,
        retry: RetryPolicy | None = None,
        *,
        progress_interval: float = 0.25,
    ) -> None:
        self.sessions = sessions
        self.agents = agents
        self.run_timeout = run_timeout
        self.retry = retry or RetryPolicy()
        self.progress_interval = progress_interval
        self.recorder = RunRecorder(sessions)
        self._tasks: set[asyncio.Task[Message | None]] = set()
        self._stopping = False

    async def start(self, user_id: uuid.UUID, conversation_id: uuid.UUID, content: str) -> RunHandle:
        """Store the user's message and a running run, then start the agent.

        The conversation row is locked while checking for a run in progress, so
        of two messages sent at once the second gets RunInProgress (409). A
        message while the graph waits at an interrupt is InterruptPending (409).
        """
        return await self._begin(user_id, conversation_id, content, _NO_RESUME)

    async def resume(self, user_id: uuid.UUID, conversation_id: uuid.UUID, value: Any) -> RunHandle:
        """Continue the graph from its interrupt with `value` (NoInterruptPending, 409, if none)."""
        return await self._begin(user_id, conversation_id, None, value)

    async def _begin(
        self, user_id: uuid.UUID, conversation_id: uuid.UUID, content: str | None, resume: Any
    ) -> RunHandle:
        if self._stopping:
            raise ServerStopping
        async with session_scope(self.sessions) as session:
            storage = ConversationStorage(session, owner_id=user_id)
            if content is not None:
                # Before anything is written: the run row keeps the prompt too.
                storage.check_message({"role": "user", "content": content})
            conversation = await storage.get_conversation(conversation_id, for_update=True)
            assistant = self.agents.registry.get(conversation.assistant_id)
            agent = self.agents[assistant.id]
            if resume is not _NO_RESUME:
                resume = assistant.check_resume(resume)
            runs = RunRepository(session)
            await runs.fail_stale(conversation.id, datetime.now(UTC) - timedelta(seconds=self.run_timeout))
            if await runs.is_running(conversation.id):
                raise RunInProgress
            reads_state = assistant.uses_interrupts or assistant.uses_tools
            waiting = await agent.waiting(conversation.thread_id) if reads_state else None
            pending = waiting.interrupts if waiting else []
            if resume is _NO_RESUME and pending:
                raise InterruptPending(pending[0].id, pending[0].value)
            if resume is not _NO_RESUME and not pending:
                raise NoInterruptPending
            unanswered = self._unanswered(waiting) if resume is _NO_RESUME else []
            run, user_message, reply = await self.recorder.start(
                session,
                storage=storage,
                conversation=conversation,
                user_id=user_id,
                content=content,
                resume=None if resume is _NO_RESUME else resume,
                unanswered=unanswered,
            )
        handle = RunHandle(run, user_message, reply, agent, waiting, unanswered=unanswered)
        handle.emit(RunStarted(handle.run, handle.user_message, handle.assistant_message))
        task = asyncio.create_task(self._execute(handle), name=f"chat-run-{handle.run.run_id}")
        handle._task = task
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return handle

    def _forget(self, task: "asyncio.Task[Message | None]") -> None:
        self._tasks.discard(task)
        # A streamed run has no one awaiting its outcome: an AppError was
        # explained (and logged) already and travelled in its events; anything
        # else escaped that and is a bug, logged here rather than dropped.
        if task.cancelled() or (exc := task.exception()) is None or isinstance(exc, AppError):
            return
        background_failed(logger, "chat_run", f"{task.get_name()} failed", exc)

    @staticmethod
    def _unanswered(waiting: Waiting | None) -> list[ToolMessage]:
        if waiting is None:
            return []
        return [not_run(call_id, waiting.calls[call_id][0]) for call_id in waiting.unanswered]

    def _graph_input(self, handle: RunHandle) -> Any:
        if not handle.resumes:
            return handle.agent.message_input(handle.run.prompt, handle.unanswered)
        pending = handle.waiting.interrupts if handle.waiting else []
        if len(pending) == 1:
            return handle.agent.resume(handle.run.resume)
        # Several interrupts at once (parallel nodes): each gets the same answer.
        return handle.agent.resume({interrupt.id: handle.run.resume for interrupt in pending})

    async def _drive(self, handle: RunHandle, progress: ReplyProgress) -> Finished | Paused:
        """Run the graph: tokens and tool events to the listener, each step's
        messages to the history, progress of the reply beside."""
        run = handle.run
        context = AgentContext(run.user_id, run.conversation_id, self.sessions)
        stream = handle.agent.run(
            str(run.conversation_id),
            self._graph_input(handle),
            context=context,
            waiting=handle.waiting,
            run_id=str(run.run_id),
        )
        async for event in stream:
            match event:
                case Token(text=text):
                    handle.emit(event)
                    progress.add(text)
                case ToolCalled() | ToolFinished():
                    handle.emit(event)
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
        if step.messages:
            # The user's message is dated with the first step that answered it.
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
            self.sessions, run.conversation_id, run.run_id, reply_id, self.progress_interval
        )
        try:
            try:
                outcome = await self._drive(handle, progress)
            finally:
                await progress.close()
            if isinstance(outcome, Paused):
                await self._pause(handle, progress, outcome)
                return None
            return await self._succeed(handle, progress, outcome)
        except asyncio.CancelledError:
            await asyncio.shield(
                self._fail(handle, progress, "Interrupted", "The server stopped before the reply was done.")
            )
            raise
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
            handle.emit(None)

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
        reply, run = await self.retry.run(
            lambda: self.recorder.finish(handle, progress, outcome), what="recording a reply"
        )
        if reply is not None:
            handle.emit(MessageStored(reply))
        handle.emit(RunSucceeded(run))
        return reply

    async def _pause(self, handle: RunHandle, progress: ReplyProgress, outcome: Paused) -> None:
        run = await self.retry.run(
            lambda: self.recorder.pause(handle, progress, outcome), what="recording an interrupt"
        )
        handle.emit(RunInterrupted(run, handle.interrupts))

    async def _fail(self, handle: RunHandle, progress: ReplyProgress, kind: str, detail: str) -> None:
        handle.emit(RunFailed(str(handle.run.run_id), kind, detail))
        await self.recorder.fail(handle, progress, kind, detail)

    async def shutdown(self, grace: float) -> None:
        """Refuse new runs; let those in flight finish for `grace` seconds, then
        interrupt them, which ends their streams with an `Interrupted` error."""
        self._stopping = True
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


__all__ = ["ChatRunner", "RunHandle"]
