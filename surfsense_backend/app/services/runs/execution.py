"""Executing a run: its graph in a task of its own, recorded honestly.

A run is recorded in short transactions: one per graph step that added
messages a person sees (tool calls, tool results), its progress, and its
end (an answer, an interrupt the graph waits at, a failure or a cancel),
each with the run's events not stored yet. A client that disconnects stops
receiving events, not the run.
"""

import asyncio
import logging
import traceback
import uuid
from collections.abc import Callable
from typing import Any, cast

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.agents.context import AgentContext
from app.agents.graph_agent import Finished, GraphChunk, Paused, StepSaved, Token, ToolCalled, ToolFinished
from app.db import session_scope
from app.errors import AppError, InternalError, first_line
from app.models import CancelAction, Conversation, Message, ThreadRun
from app.observability.background import background_failed
from app.services.conversations.errors import AgentFailed, RunLost
from app.services.persistence import (
    ConversationNotFound,
    DatabaseUnavailable,
    RetryPolicy,
    is_database_error,
    is_database_outage,
)
from app.services.runs.admission import INTERRUPTED
from app.services.runs.events import RunFailed, StreamChunk
from app.services.runs.handle import LOST, RunHandle
from app.services.runs.interrupts import jsonable
from app.services.runs.local import LocalRuns
from app.services.runs.progress import ReplyProgress
from app.services.runs.recorder import RunRecorder

logger = logging.getLogger(__name__)


class RunExecutor:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        recorder: RunRecorder,
        local: LocalRuns,
        retry: RetryPolicy,
        *,
        progress_interval: float,
        ended: Callable[[uuid.UUID], None],
    ) -> None:
        self.sessions = sessions
        self.recorder = recorder
        self.local = local
        self.retry = retry
        self.progress_interval = progress_interval
        # Called with a run's conversation when a run that may have others queued behind it ends.
        self.ended = ended

    async def execute(self, handle: RunHandle) -> Message | None:
        """Run the graph and record its outcome; the stored reply, None when the
        run stopped at an interrupt or was cancelled, or the error it failed with."""
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
                self.ended(run.conversation_id)

    @staticmethod
    def _graph_input(handle: RunHandle) -> Any:
        # One interrupt takes its answer; several (parallel branches) a map of answers by id.
        answers = handle.answers
        answer = next(iter(answers.values())) if len(answers) == 1 else answers
        return handle.spec.graph_input(list(handle.unanswered), answer if handle.resumes else None)

    async def _drive(self, handle: RunHandle, progress: ReplyProgress) -> Finished | Paused:
        """Run the graph: tokens and tool events to the listener, each step's
        messages to the history, progress of the reply beside."""
        run = handle.run
        spec = handle.spec
        agent = handle.agent
        if agent.app_context:
            context: Any = AgentContext(run.user_id, run.conversation_id, self.sessions)
        else:
            context = agent.client_context(spec.context, spec.configurable)
        stream = agent.run(
            str(run.conversation_id),
            self._graph_input(handle),
            context=context,
            waiting=handle.waiting,
            run_id=str(run.run_id),
            chunks=spec.graph_modes,
            subgraphs=spec.stream_subgraphs,
            stops=(spec.interrupt_before, spec.interrupt_after),
            checkpoint_id=spec.checkpoint_id,
            config=_run_config(run, agent.assistant_id, spec.config, spec.stored_assistant),
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
        recorded = handle.recorded
        if step.source != "input":
            # The run's input (the user's message, the results for calls it went
            # past) is in the graph's state from its first step on, so in the
            # history up to any checkpoint a run may go on from there.
            recorded.input_checkpoint = recorded.input_checkpoint or step.checkpoint_id
        items = [(m, step.checkpoint_id) for m in step.messages]
        if recorded.held is not None and items:
            items.insert(0, recorded.held)
            recorded.held = None
        if items and isinstance(items[-1][0], AIMessage) and not items[-1][0].tool_calls:
            recorded.held = items.pop()  # type: ignore[assignment]
        if items or (handle.resumes and not recorded.answered):
            await self.retry.run(
                lambda: self.recorder.step(handle, progress, items, step.args), what="storing a step"
            )

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
        handle.emit(RunFailed(str(handle.run.run_id), "Interrupted", INTERRUPTED))

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
        # The log has where it failed, for the graph's author, but not the sentence,
        # which may quote the conversation: that is the run's error (its stream, GET run).
        where = "".join(traceback.format_tb(exc.__traceback__)).rstrip()
        logger.warning("run %s failed: %s, in\n%s", run.run_id, type(exc).__name__, where)
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


def _run_config(
    run: ThreadRun, graph_id: str, given: dict[str, Any], stored_assistant: str | None
) -> RunnableConfig:
    """The run's config (`given`: its client's and assistant's) with what the
    server tells a graph in `configurable`, as the Agent Server names it: the
    run, its assistant (a user's the run was asked for, else its graph's
    id) and graph, and who runs it, so a graph can keep
    per-user data (`user_id`, `langgraph_auth_user`). A checkpoint's metadata
    keeps these ids and none of the client's values (persistence's
    checkpoint_metadata); the user is a mapping, which LangGraph leaves out."""
    user_id = str(run.user_id)
    config = cast(RunnableConfig, dict(given))
    config["configurable"] = {
        **given.get("configurable", {}),
        "run_id": str(run.run_id),
        "assistant_id": stored_assistant or graph_id,
        "graph_id": graph_id,
        "user_id": user_id,
        "langgraph_auth_user_id": user_id,
        "langgraph_auth_user": {"identity": user_id, "is_authenticated": True, "permissions": []},
    }
    return config
