"""The history follows the branch a run goes on from.

The messages table keeps one branch of a thread: the one its latest
checkpoint is on. A message is dated with the first checkpoint whose state
holds it, so the history up to a checkpoint of that branch is exactly the
graph's state there. A run from an earlier checkpoint of the branch takes
the history back to it; a run from a checkpoint of a branch the thread left
(agent-chat-ui's branch switcher) takes it back to where the two branches
part, then forward along the other one, from the graph's own states.
"""

from typing import Any

from langchain_core.messages import BaseMessage
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.graph_agent import GraphAgent
from app.models import Conversation
from app.services.conversations.repository import CheckpointRepository
from app.services.messages.repository import MessageRepository
from app.services.persistence import ConversationStorage


async def follow_branch(
    session: AsyncSession,
    storage: ConversationStorage,
    conversation: Conversation,
    agent: GraphAgent,
    checkpoint_id: str,
) -> None:
    """The conversation's history as the graph's state at `checkpoint_id`, a
    checkpoint of the thread (on its current branch or not), has it."""
    fork, along = await CheckpointRepository(session).branch_to(conversation.id, checkpoint_id)
    # Every dated message goes when the branches share no checkpoint.
    await MessageRepository(session).rewind(conversation.id, fork or "")
    if not along:
        return
    thread = str(conversation.thread_id)
    seen = {_key(m) for m in await _messages_at(agent, thread, fork)} if fork else set()
    for step in along:
        added = [m for m in await _messages_at(agent, thread, step) if _key(m) not in seen]
        seen.update(_key(m) for m in added)
        await storage.save_messages(conversation.id, added, step)


async def _messages_at(agent: GraphAgent, thread_id: str, checkpoint_id: str) -> list[BaseMessage]:
    values = await agent.state_at(thread_id, checkpoint_id) or {}
    return [m for m in values.get("messages", []) if isinstance(m, BaseMessage)]


def _key(message: BaseMessage) -> Any:
    """A message's identity along a branch: its id (add_messages gives every one one)."""
    return message.id or (message.type, message.text)
