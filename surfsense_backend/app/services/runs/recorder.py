"""The transactions that record a run: its start, each step a person sees,
and its end (an answer, an interrupt, or a failure). Each is short, and each
but the failure is safe to retry: a retry after a commit whose answer was
lost finds its work done."""

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from app.agents.graph_agent import Finished, Paused
from app.db import session_scope
from app.db.content import label_of
from app.models import CancelAction, Conversation, Message, RunStatus, ThreadRun
from app.observability.background import background_failed
from app.services.conversations.errors import RunLost
from app.services.conversations.titles import derive_title
from app.services.messages.incoming import message_metadata
from app.services.persistence import ConversationNotFound, ConversationStorage, is_transient
from app.services.runs.event_log import EventLog
from app.services.runs.events import (
    ChatEvent,
    MessageStored,
    RunCancelled,
    RunFailed,
    RunInterrupted,
    RunStarted,
    RunSucceeded,
    message_json,
    to_json,
)
from app.services.runs.handle import RunHandle
from app.services.runs.interrupts import interrupt_message, jsonable
from app.services.runs.progress import ReplyProgress
from app.services.runs.repository import RunRepository

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
        run: ThreadRun,
        opening: Sequence[BaseMessage | dict[str, Any]],
    ) -> tuple[Message | None, Message | None, ChatEvent]:
        """In the caller's transaction: the run (new, or pending until now), and
        unless it resumes, its `opening` messages (the user's, say) and the
        reply's place after them; the run's first event, stored with the run's
        first write (a progress write within an interval, or its end), not
        with a statement of its own."""
        await RunRepository(session).add(run)
        user_message = reply = None
        if run.resume is None:
            stored, reply = await storage.open_turn(conversation.id, opening, run_id=run.run_id)
            user_message = next((m for m in reversed(stored) if m.role == "user"), None)
            if conversation.title is None and user_message is not None:
                conversation.title = derive_title(label_of(user_message.body))
                await session.flush()
        started = RunStarted(
            str(run.run_id),
            message_json(user_message) if user_message else None,
            message_json(reply) if reply else None,
        )
        return user_message, reply, started

    async def step(
        self,
        handle: RunHandle,
        progress: ReplyProgress,
        items: list[tuple[BaseMessage, str]],
        args: dict[str, dict[str, Any]],
    ) -> None:
        """Store what a step added, at its checkpoint; tool results with their
        calls' `args`; the run's events not stored yet."""
        async with progress.exclusive() as reply_id:
            async with session_scope(self.sessions) as session:
                storage = ConversationStorage(session)
                finished_reply = await self._store_messages(storage, handle, reply_id, items, args)
                await self._note_progress(storage, handle)
                stored = await _store_events(session, handle.run, handle.log)
            if stored is not None:
                handle.log.committed(stored)
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

    async def _note_progress(self, storage: ConversationStorage, handle: RunHandle) -> None:
        """Once per run: the messages it began with (the user's, and results
        for calls it went past) get the checkpoint they went in at, and a
        resumed interrupt its answer (the graph has taken it), or interrupts
        the input went past their end (the graph dropped them). `_noted`
        records that once the transaction commits."""
        if (checkpoint_id := handle.recorded.undated()) is not None:
            await storage.date_messages(handle.run.run_id, checkpoint_id)
        await self._answer(storage, handle)

    @staticmethod
    async def _answer(storage: ConversationStorage, handle: RunHandle) -> None:
        if handle.recorded.answered:
            return
        if handle.resumes:
            await storage.answer_interrupts(handle.run.conversation_id, handle.answers, handle.run.run_id)
        elif handle.goes_past:
            await storage.pass_interrupts(handle.run.conversation_id, handle.run.run_id)

    @staticmethod
    def _noted(handle: RunHandle) -> None:
        """After a commit: what `_note_progress` stored need not be stored again."""
        recorded = handle.recorded
        if recorded.input_checkpoint is not None:
            if handle.user_message is not None:
                set_committed_value(handle.user_message, "checkpoint_id", recorded.input_checkpoint)
            recorded.input_dated = True
        recorded.answered = recorded.answered or handle.resumes or handle.goes_past

    async def finish(
        self, handle: RunHandle, progress: ReplyProgress, outcome: Finished
    ) -> tuple[Message | None, list[ChatEvent]]:
        """The reply, the outcome and the stream's end in one transaction; a
        retry after a commit whose answer was lost finds the run succeeded and
        its events stored. The reply, and the events to append (stored)."""
        run_id = handle.run.run_id
        async with session_scope(self.sessions) as session:
            storage = ConversationStorage(session)
            reply = await self._last_answer(storage, handle, progress.reply_id)
            await self._answer(storage, handle)
            events = _succeeded(run_id, outcome.checkpoint_id, reply)
            queued = await RunRepository(session).end(
                run_id,
                events=handle.log.batch(*events),
                dated=handle.recorded.undated(),
                status=RunStatus.SUCCEEDED,
                checkpoint_id=outcome.checkpoint_id,
            )
            if queued is None:
                run = await self._locked(session, handle)
                if run.status != RunStatus.SUCCEEDED:
                    raise RunLost(run_id)
                # Found done: the reply is the one this run stored then.
                reply = await RunRepository(session).last_reply(run_id)
                return reply, _succeeded(run_id, run.checkpoint_id, reply)
            handle.queued = queued
        self._noted(handle)
        return reply, events

    @staticmethod
    async def _locked(session: AsyncSession, handle: RunHandle) -> ThreadRun:
        """The run, locked; RunLost if another process took it over meanwhile,
        ConversationNotFound if the conversation was deleted (the run with it)."""
        run = await session.get(ThreadRun, handle.run.run_id, with_for_update=True)
        if run is None:
            raise ConversationNotFound(handle.run.conversation_id)
        if run.status == RunStatus.FAILED and run.error_kind == "Interrupted":
            raise RunLost(handle.run.run_id)
        return run

    async def _last_answer(
        self, storage: ConversationStorage, handle: RunHandle, reply_id: int | None
    ) -> Message | None:
        """At the run's end: its held answer goes into the reply streaming now
        (or a message of its own); a reply left streaming without one is dropped."""
        if handle.recorded.held is not None:
            message, checkpoint_id = handle.recorded.held
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
        if reply_id is not None and (reply := await storage.finish_reply(reply_id, message, checkpoint_id)):
            return reply
        return await storage.save_message(
            handle.run.conversation_id, message, checkpoint_id, run_id=handle.run.run_id
        )

    async def pause(self, handle: RunHandle, progress: ReplyProgress, outcome: Paused) -> ChatEvent:
        """The run stops at the graph's interrupt: its questions join the history,
        the run is `interrupted` with them. The event to append, stored."""
        async with session_scope(self.sessions) as session:
            storage = ConversationStorage(session)
            run = await self._locked(session, handle)
            if run.status == RunStatus.INTERRUPTED:
                return _interrupted(run, await RunRepository(session).interrupts_of(run.run_id))
            await self._last_answer(storage, handle, progress.reply_id)
            await self._note_progress(storage, handle)
            interrupts = await storage.save_messages(
                run.conversation_id,
                [interrupt_message(i) for i in outcome.interrupts],
                outcome.checkpoint_id,
                run_id=run.run_id,
            )
            asked = [{"id": i.id, "value": jsonable(i.value)} for i in outcome.interrupts]
            RunRepository.pause(run, outcome.checkpoint_id, asked)
            await session.flush()
            await session.refresh(run)
            event = _interrupted(run, interrupts)
            await _store_events(session, run, handle.log, event)
        self._noted(handle)
        return event

    async def cancel(self, handle: RunHandle, progress: ReplyProgress) -> ChatEvent:
        """A run stopped on request (`interrupt`): `cancelled`, keeping the steps
        it completed and an answer it had finished; an unfinished reply goes."""
        event = RunCancelled(str(handle.run.run_id), CancelAction.INTERRUPT)
        async with session_scope(self.sessions) as session:
            run = await self._locked(session, handle)
            storage = ConversationStorage(session)
            await self._last_answer(storage, handle, progress.reply_id)
            await self._note_progress(storage, handle)
            RunRepository.cancel(run)
            await _store_events(session, run, handle.log, event)
        self._noted(handle)
        return event

    async def roll_back(self, handle: RunHandle) -> ChatEvent:
        """A run stopped on request (`rollback`): its checkpoints (every
        namespace), messages, events and the run itself are removed."""
        await handle.agent.forget_runs([str(handle.run.run_id)])
        async with session_scope(self.sessions) as session:
            await RunRepository(session).delete_run(handle.run.run_id)
        return RunCancelled(str(handle.run.run_id), CancelAction.ROLLBACK)

    @staticmethod
    async def cancel_pending(runs: RunRepository, run: ThreadRun, action: CancelAction) -> None:
        """A queued run cancelled before it started: `cancelled`, its stream
        ended; a rollback removes it."""
        if action == CancelAction.ROLLBACK:
            await runs.delete_run(run.run_id)
            return
        runs.cancel(run)
        await runs.add_events(run.run_id, 1, [to_json(RunCancelled(str(run.run_id), action))])

    @staticmethod
    async def refuse_pending(runs: RunRepository, run: ThreadRun, kind: str, detail: str) -> None:
        """A queued run that cannot start when its turn comes: failed, with why."""
        runs.fail(run, kind, detail)
        await runs.add_events(run.run_id, 1, [to_json(RunFailed(str(run.run_id), kind, detail))])

    async def fail(self, handle: RunHandle, progress: ReplyProgress, kind: str, detail: str) -> ChatEvent:
        """Mark the run failed and drop its unfinished reply; the user's message
        and the steps the graph completed stay in the history. The event to
        append: stored, unless the database could not be reached."""
        event = RunFailed(str(handle.run.run_id), kind, detail)
        try:
            async with session_scope(self.sessions) as session:
                run = await session.get(ThreadRun, handle.run.run_id)
                if run is not None:  # None: its conversation was deleted meanwhile
                    RunRepository.fail(run, kind, detail)
                    storage = ConversationStorage(session)
                    if progress.reply_id is not None:
                        await storage.discard_reply(progress.reply_id)
                    if (checkpoint_id := handle.recorded.undated()) is not None:
                        await storage.date_messages(run.run_id, checkpoint_id)
                    await _store_events(session, run, handle.log, event)
        except Exception as exc:
            # The run stays "running" until its lease runs out, then is marked
            # interrupted; its streams here end with this event all the same.
            if is_transient(exc):
                logger.warning(
                    "could not record that run %s failed: %s", handle.run.run_id, type(exc).__name__
                )
            else:
                background_failed(
                    logger, "chat_run", f"could not record that run {handle.run.run_id} failed", exc
                )
        return event


def _with_args(message: BaseMessage, args: dict[str, dict[str, Any]]) -> BaseMessage | dict[str, Any]:
    """A tool result as the history keeps it: with its call's arguments, in the one INSERT."""
    if not isinstance(message, ToolMessage):
        return message
    metadata = {**message_metadata(message), "args": args.get(message.tool_call_id, {})}
    return {"role": "tool", "content": message.text, "metadata": metadata}


async def _store_events(session: AsyncSession, run: ThreadRun, log: EventLog, *more: ChatEvent) -> int | None:
    """In the caller's transaction: the events not stored yet, and `more`; the
    number of the last one stored, None if there were none."""
    if (batch := log.batch(*more)) is None:
        return None
    await RunRepository(session).add_events(run.run_id, *batch)
    return batch[0]


def _succeeded(run_id: uuid.UUID, checkpoint_id: str | None, reply: Message | None) -> list[ChatEvent]:
    done = RunSucceeded(str(run_id), checkpoint_id)
    return [MessageStored(message_json(reply)), done] if reply is not None else [done]


def _interrupted(run: ThreadRun, interrupts: Sequence[Message]) -> ChatEvent:
    return RunInterrupted(str(run.run_id), run.checkpoint_id, [message_json(m) for m in interrupts])
