"""ConversationStorage: messages, history pages and agent state of conversations.

SQLAlchemy-native: it works inside the caller's AsyncSession and only
flushes; the request (or task) that owns the session commits. Messages and
their counters belong to `app.services.messages`, which this adapter asks;
agent state goes through the shared LangGraph saver, so a graph and this
adapter read and write the same checkpoints.
"""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    CheckpointMetadata,
    create_checkpoint,
    empty_checkpoint,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import PersistenceConfig, get_persistence_config
from app.models import Conversation, Message
from app.services.messages.history import (
    MAX_PAGE_SIZE,
    HistoryPage,
    MessageHistory,
    check_limit,
    history_statement,
)
from app.services.messages.incoming import MessageIn, message_metadata, role_of
from app.services.messages.repository import MessageRepository
from app.services.messages.service import MessageService
from app.services.persistence.errors import CheckpointNotFound, ConversationNotFound
from app.services.persistence.retry import RetryPolicy
from app.services.persistence.shared_checkpointer import get_checkpointer

# Importable from here as they always were (the routes and the run engine use them).
__all__ = [
    "MAX_PAGE_SIZE",
    "ConversationStorage",
    "HistoryPage",
    "MessageIn",
    "history_statement",
    "message_metadata",
    "role_of",
]


class ConversationStorage:
    """Stores and loads one conversation's messages and agent state.

    With `owner_id`, every call checks the conversation belongs to that user;
    another user's conversation is reported exactly as a missing one.
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        owner_id: uuid.UUID | None = None,
        saver: BaseCheckpointSaver[Any] | None = None,
        config: PersistenceConfig | None = None,
    ) -> None:
        self.session = session
        self.owner_id = owner_id
        self.config = config or get_persistence_config()
        self._saver = saver
        self._repository = MessageRepository(session)
        self._messages = MessageService(self._repository, self.config, owner_id=owner_id)
        self._history = MessageHistory(session)

    async def get_conversation(self, conversation_id: uuid.UUID, *, for_update: bool = False) -> Conversation:
        """The conversation (ConversationNotFound if gone or not the owner's);
        one this session loaded already costs no statement, unless locked."""
        if not for_update:
            loaded = await self.session.get(Conversation, conversation_id)
            if loaded is None or (self.owner_id is not None and loaded.user_id != self.owner_id):
                raise ConversationNotFound(conversation_id)
            return loaded
        statement = select(Conversation).where(Conversation.id == conversation_id)
        if self.owner_id is not None:
            statement = statement.where(Conversation.user_id == self.owner_id)
        conversation = await self.session.scalar(statement.with_for_update())
        if conversation is None:
            raise ConversationNotFound(conversation_id)
        return conversation

    def check_message(self, message: BaseMessage | Mapping[str, Any]) -> None:
        """Raise what `save_message` would for this message, writing nothing."""
        self._messages.check(message)

    async def save_message(
        self,
        conversation_id: uuid.UUID,
        message: BaseMessage | Mapping[str, Any],
        checkpoint_id: str | None = None,
        *,
        run_id: uuid.UUID | None = None,
    ) -> Message:
        """Append a message to the conversation's history and mark it active."""
        [stored] = await self.save_messages(conversation_id, [message], checkpoint_id, run_id=run_id)
        return stored

    async def save_messages(
        self,
        conversation_id: uuid.UUID,
        messages: Sequence[BaseMessage | Mapping[str, Any]],
        checkpoint_id: str | None = None,
        *,
        run_id: uuid.UUID | None = None,
    ) -> list[Message]:
        """Append messages in their order, all or none: every one is checked
        before anything is written, and they go in as one INSERT."""
        stored = await self._messages.save(conversation_id, messages, checkpoint_id, run_id)
        return _found(conversation_id, stored) if messages else stored

    async def open_turn(
        self,
        conversation_id: uuid.UUID,
        messages: Sequence[BaseMessage | Mapping[str, Any]],
        *,
        run_id: uuid.UUID,
    ) -> tuple[list[Message], Message]:
        """A run's first messages (the user's, say) and the reply's place after
        them, empty and `streaming` (see `begin_reply`), in one INSERT."""
        *stored, placed = _found(
            conversation_id, await self._messages.open_turn(conversation_id, messages, run_id)
        )
        return stored, placed

    async def begin_reply(self, conversation_id: uuid.UUID, *, run_id: uuid.UUID, text: str = "") -> Message:
        """The assistant's reply to a run, `streaming` with its text so far: its
        place in the history from the run's start, so a reader who reloads
        mid-answer sees it. It counts as a message only once `finish_reply`
        gives it its whole text."""
        await self.get_conversation(conversation_id)
        [reply] = _found(conversation_id, await self._messages.begin_reply(conversation_id, run_id, text))
        return reply

    async def stream_reply(self, reply_id: int, text: str) -> None:
        """Store a streaming reply's text so far; a finished reply is left alone."""
        await self._repository.stream(reply_id, text)

    async def discard_reply(self, reply_id: int) -> None:
        """A reply whose run failed leaves the history, unless it was finished."""
        await self._repository.discard_reply(reply_id)

    async def finish_reply(
        self, reply_id: int, message: BaseMessage | str, checkpoint_id: str | None
    ) -> Message | None:
        """Give a streaming reply its whole message (text, and tool calls if it
        makes any) and make it `complete`, counted, in one statement. A reply
        complete already is returned as it is, so a retry is harmless; None if gone."""
        return await self._messages.finish_reply(reply_id, message, checkpoint_id)

    async def date_messages(self, run_id: uuid.UUID, checkpoint_id: str) -> None:
        """Give a run's messages stored before its graph's first checkpoint
        (the user's message, say) the checkpoint they went in at."""
        await self._repository.date(run_id, checkpoint_id)

    async def answer_interrupts(
        self, conversation_id: uuid.UUID, answers: dict[str, Any], run_id: uuid.UUID
    ) -> None:
        """Record each pending interrupt's answer (`answers` by interrupt id):
        the run `run_id` resumed the graph with them."""
        await self._messages.answer_interrupts(conversation_id, answers, run_id)

    async def pass_interrupts(self, conversation_id: uuid.UUID, run_id: uuid.UUID) -> None:
        """The conversation's pending interrupts wait no more: the run `run_id`
        went on with new input, and the graph dropped them unanswered."""
        await self._messages.pass_interrupts(conversation_id, run_id)

    async def get_conversation_history(
        self, conversation_id: uuid.UUID, limit: int = 50, before: int | None = None
    ) -> HistoryPage:
        """The newest `limit` messages older than `before`, oldest first.

        Keyset pagination on (conversation_id, id): a page is one index range
        scan however deep it is, and messages added meanwhile never shift it.
        """
        check_limit(limit)
        await self.get_conversation(conversation_id)
        return await self._history.before(conversation_id, limit, before)

    async def get_history_after(self, conversation_id: uuid.UUID, after: int, limit: int = 50) -> HistoryPage:
        """The oldest `limit` messages newer than `after`, oldest first: paging
        forward from a page opened around a message."""
        check_limit(limit)
        await self.get_conversation(conversation_id)
        return await self._history.after(conversation_id, after, limit)

    async def get_history_around(
        self, conversation_id: uuid.UUID, message_id: int, limit: int = 50
    ) -> HistoryPage:
        """The page with `message_id` in its middle (a search result opened),
        and the cursors to page from it both ways."""
        check_limit(limit)
        await self.get_conversation(conversation_id)
        return await self._history.around(conversation_id, message_id, limit)

    async def saver(self) -> BaseCheckpointSaver[Any]:
        if self._saver is None:
            self._saver = await get_checkpointer()
        return self._saver

    async def save_agent_state(
        self, conversation_id: uuid.UUID, state: Mapping[str, Any], checkpoint_id: str | None = None
    ) -> str:
        """Write `state` (channel values) as a new checkpoint; return its id.

        The checkpoint follows `checkpoint_id`, or the latest one when it is
        None, exactly as a graph's `update_state` would, so the graph resumes
        from it. Channels not in `state` keep their values.
        """
        conversation = await self.get_conversation(conversation_id)
        saver = await self.saver()
        parent = await saver.aget_tuple(self._config(conversation, checkpoint_id))
        if checkpoint_id is not None and parent is None:
            raise CheckpointNotFound(checkpoint_id)
        base = parent.checkpoint if parent else empty_checkpoint()
        step = int(parent.metadata.get("step", -1)) + 1 if parent else 0
        checkpoint = create_checkpoint(base, None, step)
        new_versions = {
            channel: saver.get_next_version(base["channel_versions"].get(channel), None) for channel in state
        }
        checkpoint["channel_values"] = {**base["channel_values"], **state}
        checkpoint["channel_versions"] = {**base["channel_versions"], **new_versions}
        checkpoint["updated_channels"] = sorted(state)
        metadata: CheckpointMetadata = {"source": "update", "step": step, "parents": {}}
        write_config = parent.config if parent else self._config(conversation, None)
        # An upsert of the same checkpoint id: safe to run twice.
        await RetryPolicy.from_config(self.config).run(
            lambda: saver.aput(write_config, checkpoint, metadata, new_versions), what="saving agent state"
        )
        return checkpoint["id"]

    async def restore_agent_state(
        self, conversation_id: uuid.UUID, checkpoint_id: str | None = None
    ) -> dict[str, Any]:
        """The channel values at `checkpoint_id`, or at the latest checkpoint."""
        conversation = await self.get_conversation(conversation_id)
        saver = await self.saver()
        found = await RetryPolicy.from_config(self.config).run(
            lambda: saver.aget_tuple(self._config(conversation, checkpoint_id)), what="restoring agent state"
        )
        if found is None:
            raise CheckpointNotFound(checkpoint_id or f"(latest of conversation {conversation_id})")
        return dict(found.checkpoint["channel_values"])

    @staticmethod
    def _config(conversation: Conversation, checkpoint_id: str | None) -> RunnableConfig:
        configurable: dict[str, Any] = {"thread_id": conversation.thread_id, "checkpoint_ns": ""}
        if checkpoint_id is not None:
            configurable["checkpoint_id"] = checkpoint_id
        return {"configurable": configurable}


def _found(conversation_id: uuid.UUID, stored: list[Message]) -> list[Message]:
    """What a write stored; none means its conversation is gone, or not the owner's."""
    if not stored:
        raise ConversationNotFound(conversation_id)
    return stored
