"""A user's runs, as both APIs look them up: a conversation's, one by id,
the one a reconnecting client joins, and the feedback given on one."""

import uuid
from collections.abc import Sequence

from app.models import RunStatus, ThreadRun
from app.services.conversations.errors import RunNotFound
from app.services.conversations.service import ConversationService
from app.services.runs.repository import RunRepository


class RunService:
    """In the caller's transaction; a conversation is the caller's or not found."""

    def __init__(self, conversations: ConversationService) -> None:
        self.conversations = conversations
        self.user_id = conversations.user_id
        self.repository = RunRepository(conversations.session)

    async def of_conversation(self, conversation_id: uuid.UUID) -> Sequence[ThreadRun]:
        await self.conversations.get(conversation_id)
        return await self.repository.for_conversation(conversation_id)

    async def get(self, conversation_id: uuid.UUID, run_id: uuid.UUID) -> ThreadRun:
        """One of the conversation's runs (RunNotFound, 404, if not the caller's)."""
        run = await self.repository.get_for_user(run_id, self.user_id)
        if run is None or run.conversation_id != conversation_id:
            raise RunNotFound(run_id)
        return run

    async def active(self, conversation_id: uuid.UUID) -> ThreadRun | None:
        """The run a client reconnecting to the conversation wants: the running
        one, else the first queued; None when the conversation is idle."""
        await self.conversations.get(conversation_id)
        active = [run for run, _ in await self.repository.active(conversation_id)]
        return next((r for r in active if r.status == RunStatus.RUNNING), active[0] if active else None)

    async def set_feedback(self, run_id: uuid.UUID, sentiment: str | None, comment: str | None) -> ThreadRun:
        """Record feedback on a run; no sentiment clears it, comment included."""
        run = await self.repository.get_for_user(run_id, self.user_id, for_update=True)
        if run is None:
            raise RunNotFound(run_id)
        RunRepository.give_feedback(run, sentiment, comment)
        await self.conversations.session.flush()
        return run
