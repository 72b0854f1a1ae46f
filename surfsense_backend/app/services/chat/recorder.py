"""The transactions that record a run: its start, each step a person sees,
and its end (an answer, an interrupt, or a failure). Each is short, and each
but the failure is safe to retry: a retry after a commit whose answer was
lost finds its work done."""

import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from app.agents.graph_agent import Finished, Paused
from app.db import session_scope
from app.models import Conversation, Message, ThreadRun
from app.observability.background import background_failed
from app.services.chat.handle import RunHandle
from app.services.chat.interrupts import interrupt_message, jsonable
from app.services.chat.progress import ReplyProgress
from app.services.conversations.repository import RunRepository
from app.services.conversations.titles import derive_title
from app.services.persistence import ConversationStorage, is_transient
from app.services.persistence.storage_adapter import message_metadata

logger = logging.getLogger(__name__)


class RunRecorder:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @staticmethod
    async def start(
        session: AsyncSession,
        *,
        storage: ConversationStorage,
        conversation: Conversation,
        user_id: uuid.UUID,
        content: str | None,
        resume: Any,
        unanswered: list[ToolMessage],
    ) -> tuple[ThreadRun, Message | None, Message | None]:
        """In the caller's transaction: the run, and for a message the user's
        message and the reply's place; `resume` None for a message's run."""
        prompt = json.dumps(resume, ensure_ascii=False) if content is None else content
        run = ThreadRun(conversation_id=conversation.id, user_id=user_id, prompt=prompt, resume=resume)
        session.add(run)
        await session.flush()
        user_message = reply = None
        if content is not None:
            # The calls the new message goes past are answered "not run" first, as its input will.
            await storage.save_messages(conversation.id, unanswered, run_id=run.run_id)
            user_message = await storage.save_message(
                conversation.id, {"role": "user", "content": content}, run_id=run.run_id
            )
            reply = await storage.begin_reply(conversation.id, run_id=run.run_id)
            if conversation.title is None:
                conversation.title = derive_title(content)
        await session.flush()
        await session.refresh(run)
        return run, user_message, reply

    async def step(
        self,
        handle: RunHandle,
        progress: ReplyProgress,
        items: list[tuple[BaseMessage, str]],
        args: dict[str, dict[str, Any]],
    ) -> None:
        """Store what a step added, at its checkpoint; tool results with their calls' `args`."""
        reply_id = await progress.settle()
        async with session_scope(self.sessions) as session:
            storage = ConversationStorage(session)
            finished_reply = await self._store_messages(storage, handle, reply_id, items, args)
            await self._note_progress(storage, handle)
        self._noted(handle)
        if finished_reply:
            progress.next_segment()

    async def _store_messages(
        self,
        storage: ConversationStorage,
        handle: RunHandle,
        reply_id: int | None,
        items: Sequence[tuple[BaseMessage, str]],
        args: dict[str, dict[str, Any]],
    ) -> bool:
        """Store the messages in order; the first answer goes into the reply
        streaming now, if there is one. True if that reply was used."""
        used = False
        for message, checkpoint_id in items:
            if isinstance(message, AIMessage) and reply_id is not None and not used:
                await self._store_reply(storage, handle, reply_id, message, checkpoint_id)
                used = True
                continue
            await storage.save_message(
                handle.run.conversation_id,
                _with_args(message, args),
                checkpoint_id,
                run_id=handle.run.run_id,
            )
        return used

    @staticmethod
    async def _note_progress(storage: ConversationStorage, handle: RunHandle) -> None:
        """Once per run: the messages it began with (the user's, and results
        for calls it went past) get the checkpoint they went in at, and a
        resumed interrupt its answer (the graph has taken it). `_noted`
        records that once the transaction commits."""
        if not handle._user_noted and handle._input_checkpoint is not None:
            await storage.date_messages(handle.run.run_id, handle._input_checkpoint)
        if handle.resumes and not handle._answered:
            await storage.answer_interrupts(handle.run.conversation_id, handle.run.resume, handle.run.run_id)

    @staticmethod
    def _noted(handle: RunHandle) -> None:
        """After a commit: what `_note_progress` stored need not be stored again."""
        if handle._input_checkpoint is not None:
            if handle.user_message is not None:
                set_committed_value(handle.user_message, "checkpoint_id", handle._input_checkpoint)
            handle._user_noted = True
        handle._answered = handle._answered or handle.resumes

    async def finish(
        self, handle: RunHandle, progress: ReplyProgress, outcome: Finished
    ) -> tuple[Message | None, ThreadRun]:
        """The reply and the outcome in one transaction; a retry after a commit
        whose answer was lost finds the run succeeded and its reply there."""
        reply_id = progress.reply_id
        async with session_scope(self.sessions) as session:
            storage = ConversationStorage(session)
            run = await session.get_one(ThreadRun, handle.run.run_id, with_for_update=True)
            if run.status == "succeeded":
                return await RunRepository(session).last_reply(run.run_id), run
            reply = await self._last_answer(storage, handle, reply_id)
            await self._note_progress(storage, handle)
            run.status, run.checkpoint_id, run.finished_at = "succeeded", outcome.checkpoint_id, func.now()
            await session.flush()
            await session.refresh(run)
        self._noted(handle)
        return reply, run

    async def _last_answer(
        self, storage: ConversationStorage, handle: RunHandle, reply_id: int | None
    ) -> Message | None:
        """At the run's end: its held answer goes into the reply streaming now
        (or a message of its own); a reply left streaming without one is dropped."""
        if handle._held is not None:
            message, checkpoint_id = handle._held
            return await self._store_reply(storage, handle, reply_id, message, checkpoint_id)
        if reply_id is not None:
            await storage.discard_reply(reply_id)
        return None

    @staticmethod
    async def _store_reply(
        storage: ConversationStorage,
        handle: RunHandle,
        reply_id: int | None,
        message: AIMessage,
        checkpoint_id: str,
    ) -> Message:
        if reply_id is not None:
            reply = await storage.session.get_one(Message, reply_id)
            return await storage.finish_reply(reply, message, checkpoint_id)
        return await storage.save_message(
            handle.run.conversation_id, message, checkpoint_id, run_id=handle.run.run_id
        )

    async def pause(self, handle: RunHandle, progress: ReplyProgress, outcome: Paused) -> ThreadRun:
        """The run stops at the graph's interrupt: its questions join the history,
        the run is `interrupted` with them."""
        async with session_scope(self.sessions) as session:
            storage = ConversationStorage(session)
            run = await session.get_one(ThreadRun, handle.run.run_id, with_for_update=True)
            if run.status == "interrupted":
                handle.interrupts = list(await RunRepository(session).interrupts_of(run.run_id))
                return run
            await self._last_answer(storage, handle, progress.reply_id)
            await self._note_progress(storage, handle)
            interrupts = await storage.save_messages(
                run.conversation_id,
                [interrupt_message(i) for i in outcome.interrupts],
                outcome.checkpoint_id,
                run_id=run.run_id,
            )
            run.status, run.checkpoint_id, run.finished_at = "interrupted", outcome.checkpoint_id, func.now()
            run.interrupts = [{"id": i.id, "value": jsonable(i.value)} for i in outcome.interrupts]
            await session.flush()
            await session.refresh(run)
        self._noted(handle)
        handle.interrupts = interrupts
        return run

    async def fail(self, handle: RunHandle, progress: ReplyProgress, kind: str, detail: str) -> None:
        """Mark the run failed and drop its unfinished reply; the user's message
        and the steps the graph completed stay in the history."""
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
                    if progress.reply_id is not None:
                        await ConversationStorage(session).discard_reply(progress.reply_id)
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


def _with_args(message: BaseMessage, args: dict[str, dict[str, Any]]) -> BaseMessage | dict[str, Any]:
    """A tool result as the history keeps it: with its call's arguments, in the one INSERT."""
    if not isinstance(message, ToolMessage):
        return message
    metadata = {**message_metadata(message), "args": args.get(message.tool_call_id, {})}
    return {"role": "tool", "content": message.text, "metadata": metadata}
