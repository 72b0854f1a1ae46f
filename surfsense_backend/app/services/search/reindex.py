"""Indexing the history again in another text search configuration: the
language stems and stop words follow (SEARCH_LANGUAGE), without a migration.

The new configuration is stored first, so every write from then on is
indexed in it; the rows already there follow in short batches, each its own
transaction, so writes go on meanwhile. Until the last batch, a search
matches the rows indexed so far in the new configuration.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidRequest
from app.models import Message, SearchConfig

SEARCHABLE = (Message.status == "complete", Message.role.in_(("user", "assistant")))

_MESSAGES_BATCH_SQL = """
UPDATE messages SET search_vector = to_tsvector((SELECT language FROM search_config), content)
WHERE id IN (
    SELECT id FROM messages
    WHERE id > :after AND status = 'complete' AND role IN ('user', 'assistant')
    ORDER BY id LIMIT :batch
)
RETURNING id
"""
_TITLES_SQL = """
UPDATE conversations SET title_vector = to_tsvector((SELECT language FROM search_config), coalesce(title, ''))
"""


class UnknownLanguage(InvalidRequest):
    def __init__(self, language: str, known: Sequence[str]) -> None:
        super().__init__(f"No text search configuration {language!r}; this server has: {', '.join(known)}.")


async def use_language(session: AsyncSession, language: str) -> None:
    """Store `language` as the configuration writes and searches use."""
    known = list(await session.scalars(text("SELECT cfgname FROM pg_ts_config ORDER BY cfgname")))
    if language not in known:
        raise UnknownLanguage(language, known)
    await session.execute(update(SearchConfig).values(language=language))


async def searchable_messages(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Message).where(*SEARCHABLE)) or 0)


async def reindex_messages(session: AsyncSession, after: int, batch: int) -> list[int]:
    """The next `batch` searchable messages after id `after`, indexed again: their ids."""
    params: dict[str, Any] = {"after": after, "batch": batch}
    return list(await session.scalars(text(_MESSAGES_BATCH_SQL), params))


async def reindex_titles(session: AsyncSession) -> None:
    """Every title (a title is short: one statement)."""
    await session.execute(text(_TITLES_SQL))
