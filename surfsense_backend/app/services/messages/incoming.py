"""A message as callers give it (a LangChain message, or a mapping with a
role and content), in the one shape the messages are stored from."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from app.db.content import Content, label_of, text_of
from app.services.messages.errors import InvalidMessage

# What a chat agent's reply says of its memory (app/agents/memory.py), kept with it.
_MEMORY_KEYS = ("recalled", "remembered")
# LangChain's message types, by the role the chat history shows.
_ROLE_OF_TYPE = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


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

    @classmethod
    def reply_place(cls, text: str = "") -> "MessageIn":
        """A run's reply from its start: `streaming`, so not yet counted."""
        return cls("assistant", text, {}, status="streaming")

    @property
    def body(self) -> Content:
        return self.blocks if self.blocks is not None else self.content

    @property
    def label(self) -> str:
        """What the conversation's preview (and title) shows of it."""
        return label_of(self.body)


def role_of(message: BaseMessage) -> str:
    """The chat-history role of a LangChain message ("human" is "user", ...)."""
    return _ROLE_OF_TYPE.get(message.type, message.type)


def message_metadata(message: BaseMessage) -> dict[str, Any]:
    """What the history keeps of a LangChain message besides its text: its id,
    an assistant's tool calls and what it recalled and remembered, a tool
    result's call id, tool name and status."""
    metadata: dict[str, Any] = {"lc_id": message.id} if message.id else {}
    if isinstance(message, AIMessage) and message.tool_calls:
        metadata["tool_calls"] = [
            {"id": c["id"], "name": c["name"], "args": c["args"]} for c in message.tool_calls
        ]
    if isinstance(message, AIMessage):
        shown = message.response_metadata
        metadata.update({key: shown[key] for key in _MEMORY_KEYS if key in shown})
    if isinstance(message, ToolMessage):
        metadata.update(tool_call_id=message.tool_call_id, name=message.name, status=message.status)
    return metadata


def message_in(message: BaseMessage | Mapping[str, Any]) -> MessageIn:
    """The message as it is stored (InvalidMessage if its content is neither text nor blocks)."""
    if isinstance(message, BaseMessage):
        return MessageIn.of(role_of(message), message.content, message_metadata(message))
    content = message.get("content")
    if not isinstance(content, str | list):
        raise InvalidMessage("Message content must be a string or a list of content blocks.")
    return MessageIn.of(str(message.get("role", "")), content, dict(message.get("metadata") or {}))
