"""The rules of conversations: who sees what, titles, archive, delete, history, checkpoints."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.registry import AssistantRegistry
from app.errors import InvalidRequest
from app.models import Checkpoint, Conversation
from app.services.conversations.archived import ArchivedFilter
from app.services.conversations.cursor import decode_cursor, encode_cursor
from app.services.conversations.errors import AssistantOfAnotherGraph
from app.services.conversations.repository import CheckpointRepository, ConversationRepository
from app.services.persistence import (
    CheckpointNotFound,
    ConversationNotFound,
    ConversationStorage,
    HistoryPage,
)


@dataclass(frozen=True)
class ConversationPage:
    items: Sequence[Conversation]
    next_cursor: str | None
    total: int


@dataclass(frozen=True)
class CheckpointPage:
    items: Sequence[Checkpoint]
    next_before: str | None


class ConversationService:
    """Everything a user may do with their conversations, in the caller's transaction."""

    def __init__(
        self, session: AsyncSession, user_id: uuid.UUID, secret_key: str, assistants: AssistantRegistry
    ) -> None:
        self.session = session
        self.assistants = assistants
        self.user_id = user_id
        self.secret_key = secret_key
        self.conversations = ConversationRepository(session, user_id)
        self.storage = ConversationStorage(session, owner_id=user_id)

    async def get(self, conversation_id: uuid.UUID, *, for_update: bool = False) -> Conversation:
        conversation = await self.conversations.get(conversation_id, for_update=for_update)
        if conversation is None:
            raise ConversationNotFound(conversation_id)
        return conversation

    async def create(
        self, title: str | None, graph_id: str | None = None, stored_assistant_id: uuid.UUID | None = None
    ) -> Conversation:
        """A conversation answered by the graph `graph_id` (UnknownAssistant,
        422, naming the known ones), or by the default graph; with the
        caller's assistant of that graph it keeps (the caller found it theirs:
        AssistantService.resolve), whose configuration runs every turn."""
        graph_id = graph_id or self.assistants.default
        self.assistants.get(graph_id)
        conversation = Conversation(
            user_id=self.user_id, title=title, assistant_id=graph_id, stored_assistant_id=stored_assistant_id
        )
        self.conversations.add(conversation)
        await self.session.flush()
        await self.session.refresh(conversation)
        return conversation

    async def list(self, archived: ArchivedFilter, limit: int, cursor: str | None) -> ConversationPage:
        after = decode_cursor(cursor, self.secret_key) if cursor else None
        rows = await self.conversations.page(archived, limit + 1, after)
        items = rows[:limit]
        next_cursor = (
            encode_cursor(items[-1].updated_at, items[-1].id, self.secret_key) if len(rows) > limit else None
        )
        return ConversationPage(items, next_cursor, await self.conversations.count(archived))

    async def update(
        self, conversation_id: uuid.UUID, *, title: str | None, archived: bool | None
    ) -> Conversation:
        """Rename, archive or unarchive; archiving marks its checkpoints too (a trigger)."""
        conversation = await self.get(conversation_id, for_update=True)
        if title is not None:
            conversation.title = title
        if archived is not None:
            conversation.archived = archived
        await self.session.flush()
        await self.session.refresh(conversation)
        return conversation

    async def keep_assistant(
        self, conversation_id: uuid.UUID, graph_id: str, stored_assistant_id: uuid.UUID | None
    ) -> Conversation:
        """Run its next turns with the caller's assistant `stored_assistant_id`
        (the caller found it theirs), or with its graph as it is (None). Its
        graph stays: an assistant of another is AssistantOfAnotherGraph (409)."""
        conversation = await self.get(conversation_id, for_update=True)
        if graph_id != conversation.assistant_id:
            raise AssistantOfAnotherGraph(conversation.id, conversation.assistant_id, graph_id)
        conversation.stored_assistant_id = stored_assistant_id
        await self.session.flush()
        return conversation

    async def delete(self, conversation_id: uuid.UUID) -> None:
        if not await self.conversations.delete(conversation_id):
            raise ConversationNotFound(conversation_id)

    async def history(
        self,
        conversation_id: uuid.UUID,
        limit: int,
        *,
        before: int | None = None,
        after: int | None = None,
        around: int | None = None,
    ) -> HistoryPage:
        """The newest page (before `before`), the page after `after`, or the
        page around message `around`: one of the three at most."""
        if sum(cursor is not None for cursor in (before, after, around)) > 1:
            raise InvalidRequest("Page by one of before, after and around at a time.")
        if around is not None:
            return await self.storage.get_history_around(conversation_id, around, limit)
        if after is not None:
            return await self.storage.get_history_after(conversation_id, after, limit)
        return await self.storage.get_conversation_history(conversation_id, limit=limit, before=before)

    async def checkpoints(self, conversation_id: uuid.UUID, limit: int, before: str | None) -> CheckpointPage:
        await self.get(conversation_id)
        rows = await CheckpointRepository(self.session).page(conversation_id, limit + 1, before)
        items = rows[:limit]
        return CheckpointPage(items, items[-1].checkpoint_id if len(rows) > limit else None)

    async def require_checkpoint(self, conversation_id: uuid.UUID, checkpoint_id: str) -> Conversation:
        conversation = await self.get(conversation_id)
        if not await CheckpointRepository(self.session).exists(conversation.id, checkpoint_id):
            raise CheckpointNotFound(checkpoint_id)
        return conversation

    async def subgraph_checkpoints(
        self, conversation: Conversation, checkpoint_id: str
    ) -> Sequence[tuple[str, str]]:
        """(namespace, checkpoint id) of the latest state of each subgraph that
        ran in the step that made `checkpoint_id`."""
        return await CheckpointRepository(self.session).subgraphs_of_step(conversation.id, checkpoint_id)
