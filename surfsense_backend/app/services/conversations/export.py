"""A conversation as JSON-ready data, with its user's memories, for `surfsense-db export`."""

import uuid
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.models import Checkpoint, Conversation, Message, StoreItem, ThreadRun
from app.schemas.conversations import ConversationOut, MessageOut, RunOut


async def export_conversation(session: AsyncSession, conversation_id: uuid.UUID) -> dict[str, Any]:
    """The conversation, its messages in order, its runs with their feedback,
    and its user's memories, as JSON-ready data."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"Conversation {conversation_id} was not found.")
    messages = await session.scalars(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
    )
    runs = await session.scalars(
        select(ThreadRun).where(ThreadRun.conversation_id == conversation_id).order_by(ThreadRun.started_at)
    )
    namespaces = await session.execute(
        select(Checkpoint.checkpoint_ns, func.count())
        .where(Checkpoint.conversation_id == conversation_id)
        .group_by(Checkpoint.checkpoint_ns)
        .order_by(Checkpoint.checkpoint_ns)
    )
    per_namespace = {ns: int(count) for ns, count in namespaces.all()}
    return {
        "conversation": {
            **ConversationOut.model_validate(conversation).model_dump(mode="json"),
            "user_id": str(conversation.user_id),
        },
        "messages": [MessageOut.model_validate(m).model_dump(mode="json") for m in messages],
        "runs": [RunOut.model_validate(r).model_dump(mode="json") for r in runs],
        "checkpoints": sum(per_namespace.values()),
        # The root graph's ("") and each subgraph's, by namespace.
        "checkpoint_namespaces": per_namespace,
        "memories": await _memories(session, conversation.user_id),
    }


async def _memories(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The user's store items (every namespace, as they see it: without their
    id in front), newest update first; expired ones, never returned, are not theirs to export."""
    items = await session.scalars(
        select(StoreItem)
        .where(
            StoreItem.user_id == user_id,
            or_(StoreItem.expires_at.is_(None), StoreItem.expires_at > func.now()),
        )
        .order_by(StoreItem.updated_at.desc(), StoreItem.prefix, StoreItem.key)
    )
    return [
        {
            "namespace": item.prefix.split(".")[1:],
            "key": item.key,
            "value": item.value,
            "created_at": item.created_at.isoformat() if item.created_at else None,
            "updated_at": item.updated_at.isoformat() if item.updated_at else None,
            "expires_at": item.expires_at.isoformat() if item.expires_at else None,
        }
        for item in items
    ]
