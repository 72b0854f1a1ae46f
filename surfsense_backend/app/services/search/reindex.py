"""Indexing the history again in another text search configuration: the
language stems and stop words follow (SEARCH_LANGUAGE), without a migration.

The new configuration is stored first, so every write from then on is
indexed in it; the rows already there follow in short batches, each its own
transaction, so writes go on meanwhile. Until the last batch, a search
matches the rows indexed so far in the new configuration.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidRequest
from app.models import Conversation, Message, SearchConfig
from app.services.messages.repository import MessageRepository

SEARCHABLE = (Message.status == "complete", Message.role.in_(("user", "assistant")))


def _vector(text_column: SQLColumnExpression[str]) -> ColumnElement[Any]:
    """The column's words in the configuration search_config holds, as the triggers make them."""
    return func.to_tsvector(select(SearchConfig.language).scalar_subquery(), text_column)


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
    chosen = select(Message.id).where(Message.id > after, *SEARCHABLE).order_by(Message.id).limit(batch)
    return await MessageRepository(session).reindex(chosen, _vector(Message.content))


async def reindex_titles(session: AsyncSession) -> None:
    """Every title (a title is short: one statement)."""
    await session.execute(
        update(Conversation).values(title_vector=_vector(func.coalesce(Conversation.title, "")))
    )
