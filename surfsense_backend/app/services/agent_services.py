"""The services the agents' tools call, behind the agents' own types
(`app.agents.context`): the agents import no service, the app lends them these."""

import re
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.context import AgentServices, FoundMessage
from app.services.persistence import ConversationStorage, InvalidMessage
from app.services.search.query import MAX_QUERY_CHARS, SearchQuery
from app.services.search.repository import SearchRepository

_UNSTORABLE = re.compile("[\\x00\\ud800-\\udfff]")


async def search_messages(
    session: AsyncSession, user_id: uuid.UUID, query: str, limit: int, exclude: uuid.UUID
) -> Sequence[FoundMessage]:
    """The full-text search's best messages of the user's for `query`, taken as
    finished words (a program does not type: no last word as a prefix). A
    model's query is not refused as a person's is: a NUL or a lone surrogate
    (which PostgreSQL text cannot hold) reads as a space, and a long query is cut."""
    words = SearchQuery(_UNSTORABLE.sub(" ", query)[:MAX_QUERY_CHARS], "")
    if words.empty:
        return []
    return await SearchRepository(session, user_id).messages(words, limit, exclude)


def check_note(session: AsyncSession, text: str) -> str | None:
    """Why a note cannot be stored: what storing it as a message would refuse."""
    try:
        ConversationStorage(session).check_message({"role": "user", "content": text})
    except InvalidMessage as exc:
        return str(exc)
    return None


AGENT_SERVICES = AgentServices(search_messages=search_messages, check_note=check_note)
