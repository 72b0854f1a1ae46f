"""Forking a conversation: its history, the runs that made it and its
checkpoints, copied into a new conversation of the same user."""

import uuid

from app.models import Conversation
from app.services.conversations.repository import CheckpointRepository
from app.services.conversations.service import ConversationService
from app.services.messages.repository import MessageRepository
from app.services.persistence import CheckpointNotFound
from app.services.persistence.thread_copy import copy_thread
from app.services.runs.repository import RunRepository


async def fork(
    conversations: ConversationService, conversation_id: uuid.UUID, until: str | None
) -> Conversation:
    """A new conversation of the same user with the history up to checkpoint `until`.

    Messages, the runs that made them (without their feedback, which was
    given on the source) and checkpoint rows are copied in the caller's
    transaction, so the fork is complete or absent, and independent of its
    source afterwards.
    """
    session = conversations.session
    source = await conversations.get(conversation_id)
    if until is not None and not await CheckpointRepository(session).exists(source.id, until):
        raise CheckpointNotFound(until)
    copy = Conversation(
        user_id=conversations.user_id,
        title=source.title,
        forked_from_id=source.id,
        assistant_id=source.assistant_id,
        stored_assistant_id=source.stored_assistant_id,
        metadata_=dict(source.metadata_),
    )
    repository = conversations.conversations
    repository.add(copy)
    await session.flush()
    await copy_thread(session, source.thread_id, copy.thread_id, until=until)
    messages = MessageRepository(session)
    runs = await RunRepository(session).copy_for_fork(await messages.runs_to_copy(source.id, until), copy.id)
    # Counted as they are copied; the copy read back with its counters.
    await messages.copy(source.id, copy.id, until, runs)
    await session.refresh(copy)
    return copy
