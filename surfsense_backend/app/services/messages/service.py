"""The rules of a conversation's messages: what is stored as given, what is
checked first, when a reply counts, how an interrupt ends.

A write finds the conversation itself, in its statement: an empty result
means it is gone (or not `owner_id`'s), for the caller to report as it does.
"""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from app.config import PersistenceConfig
from app.models import Message
from app.services.messages.incoming import MessageIn, message_in
from app.services.messages.repository import MessageRepository
from app.services.messages.validation import check

AnyMessage = BaseMessage | Mapping[str, Any]


class MessageService:
    def __init__(
        self, repository: MessageRepository, config: PersistenceConfig, *, owner_id: uuid.UUID | None = None
    ) -> None:
        self.repository = repository
        self.config = config
        self.owner_id = owner_id

    def check(self, message: AnyMessage) -> None:
        """Raise what `save` would for this message, writing nothing."""
        check(message_in(message), self.config)

    async def save(
        self,
        conversation_id: uuid.UUID,
        messages: Sequence[AnyMessage],
        checkpoint_id: str | None,
        run_id: uuid.UUID | None,
    ) -> list[Message]:
        """Append messages in their order, all or none: every one is checked
        before anything is written, and they go in as one INSERT."""
        return await self._insert(conversation_id, [message_in(m) for m in messages], checkpoint_id, run_id)

    async def open_turn(
        self, conversation_id: uuid.UUID, messages: Sequence[AnyMessage], run_id: uuid.UUID
    ) -> list[Message]:
        """A run's first messages and, last, the reply's place after them, in one INSERT."""
        incoming = [*(message_in(m) for m in messages), MessageIn.reply_place()]
        return await self._insert(conversation_id, incoming, None, run_id)

    async def begin_reply(self, conversation_id: uuid.UUID, run_id: uuid.UUID, text: str) -> list[Message]:
        """A run's reply, streaming with its text so far: in the history from
        the run's start, counted only once it is finished."""
        return await self._insert(conversation_id, [MessageIn.reply_place(text)], None, run_id)

    async def finish_reply(
        self, reply_id: int, message: BaseMessage | str, checkpoint_id: str | None
    ) -> Message | None:
        """A streaming reply given its whole message and counted; a reply
        finished already is returned as it is, so a retry is harmless; None if gone."""
        finished = message_in(message if isinstance(message, BaseMessage) else AIMessage(message))
        check(finished, self.config)
        reply = await self.repository.finish(reply_id, finished, checkpoint_id)
        return reply if reply is not None else await self.repository.get(reply_id)

    async def answer_interrupts(
        self, conversation_id: uuid.UUID, answers: dict[str, Any], run_id: uuid.UUID
    ) -> None:
        """Each pending interrupt's answer (`answers` by interrupt id), given
        by the run `run_id` that resumed the graph with them."""
        for interrupt_id, answer in answers.items():
            answered = {"pending": False, "answer": answer, "answered_by": str(run_id)}
            await self.repository.end_pending(
                conversation_id, answered, Message.metadata_["interrupt_id"].astext == interrupt_id
            )

    async def pass_interrupts(self, conversation_id: uuid.UUID, run_id: uuid.UUID) -> None:
        """The pending interrupts wait no more: the run `run_id` went on with
        new input, and the graph dropped them unanswered."""
        await self.repository.end_pending(conversation_id, {"pending": False, "passed_by": str(run_id)})

    async def _insert(
        self,
        conversation_id: uuid.UUID,
        incoming: list[MessageIn],
        checkpoint_id: str | None,
        run_id: uuid.UUID | None,
    ) -> list[Message]:
        if not incoming:
            return []
        for message in incoming:
            if message.status == "complete":
                check(message, self.config)
        return await self.repository.insert(
            conversation_id, incoming, checkpoint_id, run_id, owner_id=self.owner_id
        )
