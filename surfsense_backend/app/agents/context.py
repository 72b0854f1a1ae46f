"""What a run gives its graph besides the state: who asked, where, and what
the app lends the tools.

The agents import no service: a tool that needs one (searching messages,
checking a note as a message) calls it through `AgentServices`, which the
application builds from its services and passes to `compile_assistants`.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from langgraph.store.base import BaseStore
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class FoundMessage(Protocol):
    """A message a search found, as a tool shows it."""

    @property
    def title(self) -> str | None: ...

    @property
    def role(self) -> str: ...

    @property
    def content(self) -> str: ...


# (session, user_id, query, limit, exclude) -> the user's messages that match
# `query`, best first, outside the conversation `exclude`. Callables, not
# protocols: pydantic reads this context's types when the tools are built.
MessageSearch = Callable[[AsyncSession, uuid.UUID, str, int, uuid.UUID], Awaitable[Sequence[FoundMessage]]]
# (session, text) -> why `text` cannot be stored as a message, or None.
TextCheck = Callable[[AsyncSession, str], str | None]
# (user id) -> that user's long-term memory (LangGraph's store), private to them.
StoreFor = Callable[[str], BaseStore]


@dataclass(frozen=True)
class AgentServices:
    """The app's services as the tools call them."""

    search_messages: MessageSearch
    check_note: TextCheck


@dataclass(frozen=True)
class AgentContext:
    """LangGraph's runtime context of every run (`Runtime.context`,
    `ToolRuntime.context`): tools act for `user_id` and nobody else."""

    user_id: uuid.UUID
    conversation_id: uuid.UUID
    sessions: async_sessionmaker[AsyncSession]
    # Lent by the agent that runs the graph (GraphAgent.run), from compile_assistants.
    services: AgentServices | None = None
