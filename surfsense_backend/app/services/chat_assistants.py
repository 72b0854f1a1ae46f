"""The chat API's conversations with the user's assistants: one made with an
assistant (a graph, or one the user made of a graph, as the Agent Server
names them), and each turn run with the configuration of the one it keeps.

A turn's spec is built here as the Agent Server's run is in threads/runs.py:
the client's config and context over its assistant's (run_config.merged_config),
`stored_assistant` naming it; the one run engine runs both (decision 0024)."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.agents.registry import CompiledAssistants
from app.db import session_scope
from app.models import Conversation, MultitaskStrategy, ThreadRun
from app.schemas.conversations import MessageIn
from app.services.assistants.service import AssistantService
from app.services.conversations.service import ConversationService
from app.services.runs.run_config import merged_config
from app.services.runs.runner import ChatRunner
from app.services.runs.spec import RunSpec


async def create_conversation(
    conversations: ConversationService,
    assistants: AssistantService,
    title: str | None,
    assistant_id: str | None,
) -> Conversation:
    """A conversation of `assistant_id`'s graph, keeping it when the caller made
    it (anyone else's is AssistantNotFound, 404); the default graph for None."""
    if assistant_id is None:
        return await conversations.create(title)
    return await conversations.create(title, *await _chosen(assistants, assistant_id))


async def choose_assistant(
    conversations: ConversationService,
    assistants: AssistantService,
    conversation_id: uuid.UUID,
    assistant_id: str,
) -> Conversation:
    """The conversation's next turns run with `assistant_id`: one of the
    caller's assistants of its graph, or its graph's id (its graph as it is)."""
    return await conversations.keep_assistant(conversation_id, *await _chosen(assistants, assistant_id))


async def _chosen(assistants: AssistantService, assistant_id: str) -> tuple[str, uuid.UUID | None]:
    """The graph `assistant_id` runs, and the caller's assistant it is, if it is one."""
    assistant = await assistants.resolve(assistant_id)
    return assistant.graph_id, uuid.UUID(assistant.stored_id) if assistant.stored_id else None


class ChatTurns:
    """A message or an answer in a conversation, started as a run in a unit
    of work of its own: its assistant read, its run admitted."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        user_id: uuid.UUID,
        agents: CompiledAssistants,
        runner: ChatRunner,
    ) -> None:
        self.sessions = sessions
        self.user_id = user_id
        self.agents = agents
        self.runner = runner

    async def start(self, conversation_id: uuid.UUID, body: MessageIn) -> ThreadRun:
        async with session_scope(self.sessions) as session:
            spec = await self._spec(session, conversation_id, body)
            admitted = await self.runner.admit(session, self.user_id, conversation_id, spec)
        self.runner.go(admitted)
        return admitted.run

    async def _spec(self, session: AsyncSession, conversation_id: uuid.UUID, body: MessageIn) -> RunSpec:
        """The turn's spec: with the assistant the conversation keeps, as it
        is now (an update is what the next turn runs); a conversation that
        keeps none, or lost its assistant to a delete, runs its graph as it is."""
        kept = await AssistantService(session, self.user_id, self.agents).of_conversation(conversation_id)
        config, context = merged_config(
            body.config, body.context, kept.config if kept else None, kept.context if kept else None
        )
        configured: dict[str, Any] = {
            "config": config,
            "context": context,
            "stored_assistant": kept.stored_id if kept else None,
        }
        strategy = MultitaskStrategy(body.multitask_strategy)
        if body.content is not None:
            return RunSpec.message(body.content, strategy, **configured)
        return RunSpec.answer(body.resume, strategy, **configured)
