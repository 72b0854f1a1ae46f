"""ConversationStorage: messages, history pages and agent state of conversations.

SQLAlchemy-native: it works inside the caller's AsyncSession and only
flushes; the request (or task) that owns the session commits. Agent state
goes through the shared LangGraph saver, so a graph and this adapter read and
write the same checkpoints.
"""

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    CheckpointMetadata,
    create_checkpoint,
    empty_checkpoint,
)
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    TableValuedAlias,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.dml import ReturningUpdate

from app.config import PersistenceConfig, get_persistence_config
from app.db.content import Content, blocks_problem, label_of, size_in_bytes, text_of
from app.db.text import unstorable_json
from app.errors import InvalidRequest
from app.models import PREVIEW_CHARS, ROLES, Conversation, Message
from app.services.persistence.errors import (
    CheckpointNotFound,
    ConversationNotFound,
    InvalidMessage,
    MessageNotFound,
    MessageTooLarge,
)
from app.services.persistence.retry import RetryPolicy
from app.services.persistence.shared_checkpointer import get_checkpointer

MAX_PAGE_SIZE = 200

# LangChain's message types, by the role the chat history shows.
_ROLE_OF_TYPE = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


@dataclass(frozen=True)
class HistoryPage:
    """A page of history, oldest first; `next_before` fetches the page before
    it, `next_after` the page after it (a page opened around a message)."""

    items: list[Message]
    next_before: int | None
    next_after: int | None = None


@dataclass(frozen=True)
class MessageIn:
    role: str
    # Its text; a message sent as content blocks also has them in `blocks`.
    content: str
    metadata: dict[str, Any]
    # "streaming": a reply's place, written as the run goes; not yet a message.
    status: str = "complete"
    blocks: list[Any] | None = None

    @classmethod
    def of(cls, role: str, content: Content, metadata: dict[str, Any]) -> "MessageIn":
        blocks = None if isinstance(content, str) else content
        return cls(role, text_of(content), metadata, blocks=blocks)

    @property
    def body(self) -> Content:
        return self.blocks if self.blocks is not None else self.content

    @property
    def label(self) -> str:
        """What the conversation's preview (and title) shows of it."""
        return label_of(self.body)


def _rows(incoming: Sequence[MessageIn], checkpoint_id: str | None) -> TableValuedAlias:
    """The messages as rows with their order (`ord`), from one array per
    column: one statement text, cached, whatever their number."""

    def array(name: str, values: list[Any], column: InstrumentedAttribute[Any]) -> BindParameter[Any]:
        return bindparam(name, values, type_=ARRAY(column.type))

    return (
        func.unnest(
            array("roles", [m.role for m in incoming], Message.role),
            array("contents", [m.content for m in incoming], Message.content),
            # As JSON text: a driver sends a list inside an array as another dimension.
            bindparam("blocks", [_json_or_null(m.blocks) for m in incoming], type_=ARRAY(Text)),
            array("metadata", [m.metadata for m in incoming], Message.metadata_),
            array(
                "checkpoints",
                [checkpoint_id if m.status == "complete" else None for m in incoming],
                Message.checkpoint_id,
            ),
            array("statuses", [m.status for m in incoming], Message.status),
        )
        .table_valued(
            "role", "content", "blocks", "metadata_", "checkpoint_id", "status", with_ordinality="ord"
        )
        .render_derived()
    )


def _json_or_null(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def role_of(message: BaseMessage) -> str:
    """The chat-history role of a LangChain message ("human" is "user", ...)."""
    return _ROLE_OF_TYPE.get(message.type, message.type)


def message_metadata(message: BaseMessage) -> dict[str, Any]:
    """What the history keeps of a LangChain message besides its text: its id,
    an assistant's tool calls, a tool result's call id, tool name and status."""
    metadata: dict[str, Any] = {"lc_id": message.id} if message.id else {}
    if isinstance(message, AIMessage) and message.tool_calls:
        metadata["tool_calls"] = [
            {"id": c["id"], "name": c["name"], "args": c["args"]} for c in message.tool_calls
        ]
    if isinstance(message, ToolMessage):
        metadata.update(tool_call_id=message.tool_call_id, name=message.name, status=message.status)
    return metadata


def _message_in(message: BaseMessage | Mapping[str, Any]) -> MessageIn:
    if isinstance(message, BaseMessage):
        return MessageIn.of(role_of(message), message.content, message_metadata(message))
    content = message.get("content")
    if not isinstance(content, str | list):
        raise InvalidMessage("Message content must be a string or a list of content blocks.")
    return MessageIn.of(str(message.get("role", "")), content, dict(message.get("metadata") or {}))


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}.")


def history_statement(conversation_id: uuid.UUID, limit: int, before: int | None) -> Select[tuple[Message]]:
    """The newest `limit` messages older than `before`, newest first."""
    statement = select(Message).where(Message.conversation_id == conversation_id)
    if before is not None:
        statement = statement.where(Message.id < before)
    return statement.order_by(Message.id.desc()).limit(limit)


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

    async def get_conversation(self, conversation_id: uuid.UUID, *, for_update: bool = False) -> Conversation:
        """The conversation (ConversationNotFound if gone or not the owner's);
        one this session loaded already costs no statement, unless locked."""
        if not for_update:
            loaded = await self.session.get(Conversation, conversation_id)
            if loaded is None or (self.owner_id is not None and loaded.user_id != self.owner_id):
                raise ConversationNotFound(conversation_id)
            return loaded
        statement = select(Conversation).where(self._owned(Conversation.id == conversation_id))
        if for_update:
            statement = statement.with_for_update()
        conversation = await self.session.scalar(statement)
        if conversation is None:
            raise ConversationNotFound(conversation_id)
        return conversation

    def check_message(self, message: BaseMessage | Mapping[str, Any]) -> None:
        """Raise what `save_message` would for this message, writing nothing."""
        self._validate(_message_in(message))

    def _validate(self, message: MessageIn) -> None:
        if message.role not in ROLES:
            raise InvalidMessage(f"Unknown role {message.role!r}; expected one of {', '.join(ROLES)}.")
        # An assistant message that only calls tools, or a tool's empty result, says nothing and is whole.
        wordless = message.role == "tool" or bool(message.metadata.get("tool_calls"))
        if not wordless and not message.label.strip():
            raise InvalidMessage("Message content is empty.")
        if len(message.content) > self.config.max_message_chars:
            raise MessageTooLarge(len(message.content), self.config.max_message_chars)
        if (size := size_in_bytes(message.body)) > self.config.max_message_bytes:
            raise MessageTooLarge(size, self.config.max_message_bytes, "bytes")
        if message.blocks is not None and (reason := blocks_problem(message.blocks)):
            raise InvalidMessage(f"Message content: {reason}.")
        if reason := unstorable_json(message.body):
            raise InvalidMessage(f"Message content {reason}.")

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
        incoming = [_message_in(message) for message in messages]
        if not incoming:
            return []
        return await self._insert(conversation_id, incoming, checkpoint_id, run_id)

    async def open_turn(
        self,
        conversation_id: uuid.UUID,
        messages: Sequence[BaseMessage | Mapping[str, Any]],
        *,
        run_id: uuid.UUID,
    ) -> tuple[list[Message], Message]:
        """A run's first messages (the user's, say) and the reply's place after
        them, empty and `streaming` (see `begin_reply`), in one INSERT."""
        reply = MessageIn("assistant", "", {}, status="streaming")
        *stored, placed = await self._insert(
            conversation_id, [*(_message_in(m) for m in messages), reply], None, run_id
        )
        return stored, placed

    async def _insert(
        self,
        conversation_id: uuid.UUID,
        incoming: list[MessageIn],
        checkpoint_id: str | None,
        run_id: uuid.UUID | None,
    ) -> list[Message]:
        """One statement: the conversation found (ConversationNotFound if it is
        gone or not the owner's) with its counters, and the messages after it."""
        counted = [message for message in incoming if message.status == "complete"]
        for message in counted:
            self._validate(message)
        target: Select[tuple[uuid.UUID]] | ReturningUpdate[tuple[uuid.UUID]]
        if counted:
            target = self._counting(Conversation.id == conversation_id, counted[-1].label, len(counted))
        else:
            target = select(Conversation.id).where(self._owned(Conversation.id == conversation_id))
        found = target.cte("target")
        rows = _rows(incoming, checkpoint_id)
        columns = [
            Message.role,
            Message.content,
            Message.blocks,
            Message.metadata_,
            Message.checkpoint_id,
            Message.status,
        ]
        values = [cast(rows.c.blocks, JSONB) if c is Message.blocks else rows.c[c.key] for c in columns]
        source = select(found.c.id, literal(run_id, PG_UUID), *values).join(rows, true()).order_by(rows.c.ord)
        statement = insert(Message).from_select([Message.conversation_id, Message.run_id, *columns], source)
        stored = sorted(await self.session.scalars(statement.returning(Message)), key=lambda m: m.id)
        if not stored:
            raise ConversationNotFound(conversation_id)
        return stored

    def _owned(self, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        """`condition` on conversations, and the owner's if this storage has one."""
        if self.owner_id is None:
            return condition
        return and_(condition, Conversation.user_id == self.owner_id)

    def _counting(
        self, which: ColumnElement[bool], last_label: str, added: int = 1
    ) -> ReturningUpdate[tuple[uuid.UUID]]:
        """The conversation counting `added` more messages, and active, returning
        its id. SQL expressions, so concurrent savers add up instead of
        overwriting; the ORM's copy of the conversation is left as it is."""
        return (
            update(Conversation)
            .where(self._owned(which))
            .values(
                message_count=Conversation.message_count + added,
                last_message_preview=last_label[:PREVIEW_CHARS],
                updated_at=func.now(),
            )
            .returning(Conversation.id)
            .execution_options(synchronize_session=False)
        )

    async def begin_reply(self, conversation_id: uuid.UUID, *, run_id: uuid.UUID, text: str = "") -> Message:
        """The assistant's reply to a run, `streaming` with its text so far: its
        place in the history from the run's start, so a reader who reloads
        mid-answer sees it. It counts as a message only once `finish_reply`
        gives it its whole text."""
        await self.get_conversation(conversation_id)
        reply = Message(
            conversation_id=conversation_id, role="assistant", content=text, status="streaming", run_id=run_id
        )
        self.session.add(reply)
        await self.session.flush()
        return reply

    async def stream_reply(self, reply_id: int, text: str) -> None:
        """Store a streaming reply's text so far; a finished reply is left alone."""
        await self.session.execute(
            update(Message).where(Message.id == reply_id, Message.status == "streaming").values(content=text)
        )

    async def discard_reply(self, reply_id: int) -> None:
        """A reply whose run failed leaves the history, unless it was finished."""
        await self.session.execute(
            delete(Message).where(Message.id == reply_id, Message.status == "streaming")
        )

    async def finish_reply(
        self, reply_id: int, message: BaseMessage | str, checkpoint_id: str | None
    ) -> Message | None:
        """Give a streaming reply its whole message (text, and tool calls if it
        makes any) and make it `complete`, counted, in one statement. A reply
        complete already is returned as it is, so a retry is harmless; None if gone."""
        finished = _message_in(message if isinstance(message, BaseMessage) else AIMessage(message))
        self._validate(finished)
        streaming = aliased(Message)
        conversation_of_reply = (
            select(streaming.conversation_id)
            .where(streaming.id == reply_id, streaming.status == "streaming")
            .scalar_subquery()
        )
        # The counters, in the snapshot where the reply is still streaming.
        counted = self._counting(Conversation.id == conversation_of_reply, finished.label).cte("counted")
        statement = (
            update(Message)
            .where(
                Message.id == reply_id,
                Message.status == "streaming",
                Message.conversation_id == select(counted.c.id).scalar_subquery(),
            )
            .values(
                content=finished.content,
                blocks=finished.blocks,
                checkpoint_id=checkpoint_id,
                status="complete",
                metadata_=Message.metadata_.op("||")(literal(finished.metadata, JSONB)),
            )
            .add_cte(counted)
            .returning(Message)
            .execution_options(synchronize_session=False)
        )
        reply: Message | None = await self.session.scalar(statement)
        return reply if reply is not None else await self.session.get(Message, reply_id)

    async def date_messages(self, run_id: uuid.UUID, checkpoint_id: str) -> None:
        """Give a run's messages stored before its graph's first checkpoint
        (the user's message, say) the checkpoint they went in at."""
        await self.session.execute(
            update(Message)
            .where(Message.run_id == run_id, Message.checkpoint_id.is_(None), Message.status == "complete")
            .values(checkpoint_id=checkpoint_id)
        )

    async def answer_interrupts(
        self, conversation_id: uuid.UUID, answers: dict[str, Any], run_id: uuid.UUID
    ) -> None:
        """Record each pending interrupt's answer (`answers` by interrupt id):
        the run `run_id` resumed the graph with them."""
        for interrupt_id, answer in answers.items():
            answered = {"pending": False, "answer": answer, "answered_by": str(run_id)}
            await self._end_pending(
                conversation_id, answered, Message.metadata_["interrupt_id"].astext == interrupt_id
            )

    async def pass_interrupts(self, conversation_id: uuid.UUID, run_id: uuid.UUID) -> None:
        """The conversation's pending interrupts wait no more: the run `run_id`
        went on with new input, and the graph dropped them unanswered."""
        await self._end_pending(conversation_id, {"pending": False, "passed_by": str(run_id)})

    async def _end_pending(
        self, conversation_id: uuid.UUID, ended: dict[str, Any], *where: ColumnElement[bool]
    ) -> None:
        await self.session.execute(
            update(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.role == "interrupt",
                Message.metadata_["pending"].as_boolean(),
                *where,
            )
            .values(metadata_=Message.metadata_.op("||")(literal(ended, JSONB)))
        )

    async def get_conversation_history(
        self, conversation_id: uuid.UUID, limit: int = 50, before: int | None = None
    ) -> HistoryPage:
        """The newest `limit` messages older than `before`, oldest first.

        Keyset pagination on (conversation_id, id): a page is one index range
        scan however deep it is, and messages added meanwhile never shift it.
        """
        _check_limit(limit)
        await self.get_conversation(conversation_id)
        older, has_older = await self._older(conversation_id, before, limit)
        return HistoryPage(items=older, next_before=older[0].id if has_older else None)

    async def get_history_after(self, conversation_id: uuid.UUID, after: int, limit: int = 50) -> HistoryPage:
        """The oldest `limit` messages newer than `after`, oldest first: paging
        forward from a page opened around a message."""
        _check_limit(limit)
        await self.get_conversation(conversation_id)
        newer, has_newer = await self._newer(conversation_id, after, limit)
        return HistoryPage(items=newer, next_before=None, next_after=newer[-1].id if has_newer else None)

    async def get_history_around(
        self, conversation_id: uuid.UUID, message_id: int, limit: int = 50
    ) -> HistoryPage:
        """The page with `message_id` in its middle (a search result opened),
        and the cursors to page from it both ways."""
        _check_limit(limit)
        await self.get_conversation(conversation_id)
        older, has_older = await self._older(conversation_id, message_id, limit // 2)
        newer, has_newer = await self._newer(conversation_id, message_id - 1, limit - len(older))
        if not newer or newer[0].id != message_id:
            raise MessageNotFound(message_id)
        items = older + newer
        return HistoryPage(
            items=items,
            next_before=items[0].id if has_older else None,
            next_after=items[-1].id if has_newer else None,
        )

    async def _older(
        self, conversation_id: uuid.UUID, before: int | None, limit: int
    ) -> tuple[list[Message], bool]:
        """Up to `limit` messages older than `before`, oldest first, and whether there are more."""
        rows = list(await self.session.scalars(history_statement(conversation_id, limit + 1, before)))
        page = rows[:limit]
        page.reverse()
        return page, len(rows) > limit

    async def _newer(self, conversation_id: uuid.UUID, after: int, limit: int) -> tuple[list[Message], bool]:
        """Up to `limit` messages newer than `after`, oldest first, and whether there are more."""
        statement = (
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.id > after)
            .order_by(Message.id)
            .limit(limit + 1)
        )
        rows = list(await self.session.scalars(statement))
        return rows[:limit], len(rows) > limit

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
