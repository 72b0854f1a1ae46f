"""What a run gives its graph besides the state: who asked, and where."""

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@dataclass(frozen=True)
class AgentContext:
    """LangGraph's runtime context of every run (`Runtime.context`,
    `ToolRuntime.context`): tools act for `user_id` and nobody else."""

    user_id: uuid.UUID
    conversation_id: uuid.UUID
    sessions: async_sessionmaker[AsyncSession]
