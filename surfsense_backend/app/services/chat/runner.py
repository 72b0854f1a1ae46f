"""Running the agent for a message, and recording the run honestly.

A run is recorded in three short transactions: before (the run, marked
running, and the user's message), none during (the agent's saver writes its
own checkpoints), and after (the reply and the outcome). The agent runs in a
task of its own: a client that disconnects stops receiving events, not the
run, so a run always ends as succeeded or failed.
"""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.agents.chat_graph import AgentReply, ChatAgent
from app.db import session_scope
from app.errors import AppError, InternalError, first_line
from app.models import Conversation, Message, ThreadRun
from app.observability.background import background_failed
from app.services.chat.events import ChatEvent, MessageStored, RunFailed, RunStarted, RunSucceeded, Token
from app.services.chat.progress import ReplyProgress
from app.services.conversations.errors import AgentFailed, RunInProgress, ServerStopping
from app.services.conversations.repository import RunRepository
from app.services.conversations.titles import derive_title
from app.services.persistence import (
    ConversationNotFound,
    ConversationStorage,
    DatabaseUnavailable,
    RetryPolicy,
    is_database_error,
    is_database_outage,
    is_transient,
)

logger = logging.getLogger(__name__)


@dataclass
class RunHandle:
    """One run in progress: its stored messages, its events, its outcome."""

    run: ThreadRun
    user_message: Message
    # Streaming until the run succeeds; deleted if it fails.
    assistant_message: Message
    _events: asyncio.Queue[ChatEvent | None] = field(default_factory=asyncio.Queue)
    _listening: bool = True
    _task: asyncio.Task[Message] | None = None

    def emit(self, event: ChatEvent | None) -> None:
        if self._listening:
            self._events.put_nowait(event)

    async def events(self) -> AsyncIterator[ChatEvent]:
        """Every event of the run, ending with RunSucceeded or RunFailed."""
        try:
            while (event := await self._events.get()) is not None:
                yield event
        finally:
            # A departed listener: stop queueing, let the run finish on its own.
            self._listening = False

    async def reply(self) -> Message:
        """The stored reply, or AgentFailed; waiting does not tie the run to the caller."""
        assert self._task is not None  # noqa: S101 - set by ChatRunner.start
        return await asyncio.shield(self._task)


class ChatRunner:
    """Starts runs, and on shutdown waits for them or marks them interrupted."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        agent: ChatAgent,
        run_timeout: float,
        retry: RetryPolicy | None = None,
        *,
        progress_interval: float = 0.25,
    ) -> None:
        self.sessions = sessions
        self.agent = agent
        self.run_timeout = run_timeout
        self.retry = retry or RetryPolicy()
        self.progress_interval = progress_interval
        self._tasks: set[asyncio.Task[Message]] = set()
        self._stopping = False

    async def start(self, user_id: uuid.UUID, conversation_id: uuid.UUID, content: str) -> RunHandle:
        """Store the user's message and a running run, then start the agent.

        The conversation row is locked while checking for a run in progress, so
        of two messages sent at once the second gets RunInProgress (409).
        """
        if self._stopping:
            raise ServerStopping
        message = {"role": "user", "content": content}
        async with session_scope(self.sessions) as session:
            storage = ConversationStorage(session, owner_id=user_id)
            # Before anything is written: the run row keeps the prompt too.
            storage.check_message(message)
            conversation = await storage.get_conversation(conversation_id, for_update=True)
            runs = RunRepository(session)
            await runs.fail_stale(conversation.id, datetime.now(UTC) - timedelta(seconds=self.run_timeout))
            if await runs.is_running(conversation.id):
                raise RunInProgress
            run = ThreadRun(conversation_id=conversation.id, user_id=user_id, prompt=content)
            session.add(run)
            await session.flush()
            user_message = await storage.save_message(conversation.id, message, run_id=run.run_id)
            assistant_message = await storage.begin_reply(conversation.id, run_id=run.run_id)
            if conversation.title is None:
                conversation.title = derive_title(content)
            await session.flush()
            await session.refresh(run)
        handle = RunHandle(run=run, user_message=user_message, assistant_message=assistant_message)
        handle.emit(RunStarted(run, user_message, assistant_message))
        task = asyncio.create_task(self._execute(handle), name=f"chat-run-{run.run_id}")
        handle._task = task
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return handle

    def _forget(self, task: "asyncio.Task[Message]") -> None:
        self._tasks.discard(task)
        # A streamed run has no one awaiting its outcome: an AppError was
        # explained (and logged) already and travelled in its events; anything
        # else escaped that and is a bug, logged here rather than dropped.
        if task.cancelled() or (exc := task.exception()) is None or isinstance(exc, AppError):
            return
        background_failed(logger, "chat_run", f"{task.get_name()} failed", exc)

    async def _respond(self, handle: RunHandle) -> AgentReply:
        """Run the agent: its tokens go to the listener, its progress to the history."""
        progress = ReplyProgress(self.sessions, handle.assistant_message.id, self.progress_interval)

        async def on_token(text: str) -> None:
            handle.emit(Token(text))
            progress.add(text)

        try:
            return await self.agent.respond(str(handle.run.conversation_id), handle.run.prompt, on_token)
        finally:
            await progress.close()

    async def _execute(self, handle: RunHandle) -> Message:
        run = handle.run
        try:
            reply = await self._respond(handle)
            return await self._succeed(handle, reply.text, reply.checkpoint_id)
        except asyncio.CancelledError:
            await asyncio.shield(
                self._fail(handle, "Interrupted", "The server stopped before the reply was done.")
            )
            raise
        except AppError as exc:
            await self._fail(handle, exc.kind, str(exc))
            raise
        except Exception as exc:
            error = await self._explain(run, exc)
            if isinstance(error, AgentFailed):
                await self._fail(handle, error.error_kind, error.reason)
            else:
                await self._fail(handle, error.kind, str(error))
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

    async def _succeed(self, handle: RunHandle, text: str, checkpoint_id: str) -> Message:
        reply, run, user_message = await self.retry.run(
            lambda: self._record_reply(handle, text, checkpoint_id), what="recording a reply"
        )
        handle.user_message = user_message
        handle.emit(MessageStored(reply))
        handle.emit(RunSucceeded(run))
        return reply

    async def _record_reply(
        self, handle: RunHandle, text: str, checkpoint_id: str
    ) -> tuple[Message, ThreadRun, Message]:
        """Store the reply and the outcome in one transaction, safe to retry: a
        retry after a commit whose answer was lost finds the reply already there."""
        async with session_scope(self.sessions) as session:
            run = await session.get_one(ThreadRun, handle.run.run_id, with_for_update=True)
            reply = await session.get_one(Message, handle.assistant_message.id)
            reply = await ConversationStorage(session).finish_reply(reply, text, checkpoint_id)
            user_message = await session.get_one(Message, handle.user_message.id)
            user_message.checkpoint_id = checkpoint_id
            run.status, run.checkpoint_id, run.finished_at = "succeeded", checkpoint_id, func.now()
            await session.flush()
            await session.refresh(run)
        return reply, run, user_message

    async def _fail(self, handle: RunHandle, kind: str, detail: str) -> None:
        """Mark the run failed and drop its unfinished reply; the user's message
        stays in the history."""
        handle.emit(RunFailed(str(handle.run.run_id), kind, detail))
        try:
            async with session_scope(self.sessions) as session:
                run = await session.get(ThreadRun, handle.run.run_id)
                if run is not None:  # None: its conversation was deleted meanwhile
                    run.status, run.error_kind, run.error, run.finished_at = (
                        "failed",
                        kind,
                        detail,
                        func.now(),
                    )
                    await ConversationStorage(session).discard_reply(handle.assistant_message.id)
        except Exception as exc:
            # The run stays "running" until chat_run_timeout makes it stale;
            # the client has its error already, so this one is only logged.
            if is_transient(exc):
                logger.warning(
                    "could not record that run %s failed: %s", handle.run.run_id, type(exc).__name__
                )
            else:
                background_failed(
                    logger, "chat_run", f"could not record that run {handle.run.run_id} failed", exc
                )

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
