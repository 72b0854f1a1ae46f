"""The search statement: one round trip for a page of ranked hits.

Messages and conversation titles that match, in the owner's conversations,
ranked by `ts_rank`, paged by keyset on (rank, key): a hit's rank for a query
never changes, so a page boundary holds while messages arrive. Snippets are
made for the page's hits only (`ts_headline` is the costly part).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.services.conversations.repository import ArchivedFilter
from app.services.search.query import SearchQuery

# Private-use characters around each match: they cannot come from the text
# (it is stripped of them first), so the page splits on them safely.
START, STOP = "\ue000", "\ue001"
_HEADLINE = (
    f'StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'
)

SEARCH_SQL = """
WITH q AS (
    SELECT cfg.language,
           CASE WHEN CAST(:either AS boolean) THEN words.query || prefix.query
                ELSE words.query && prefix.query END AS query
    FROM search_config cfg,
         LATERAL (SELECT websearch_to_tsquery(cfg.language, CAST(:words AS text)) AS query) words,
         LATERAL (
             SELECT CASE WHEN CAST(:prefix AS text) = '' THEN ''::tsquery
                         ELSE to_tsquery(cfg.language, CAST(:prefix AS text) || ':*') END AS query
         ) prefix
),
owned AS MATERIALIZED (
    SELECT c.id, c.title, c.title_vector FROM conversations c
    WHERE c.user_id = :user_id
      AND (CAST(:archived AS text) = 'all' OR c.archived = (CAST(:archived AS text) = 'true'))
),
hits AS (
    SELECT ts_rank(m.search_vector, q.query)::float8 AS rank, 'm' || lpad(m.id::text, 19, '0') AS key,
           m.conversation_id, m.id AS message_id, m.role, m.created_at, m.content AS body
    FROM q, messages m
    WHERE m.search_vector @@ q.query AND m.conversation_id IN (SELECT id FROM owned)
    UNION ALL
    SELECT ts_rank(o.title_vector, q.query)::float8, 'c' || o.id::text,
           o.id, NULL, NULL, NULL, coalesce(o.title, '')
    FROM q, owned o
    WHERE o.title_vector @@ q.query
),
page AS (
    SELECT * FROM hits
    WHERE CAST(:after_rank AS float8) IS NULL
       OR (rank, key) < (CAST(:after_rank AS float8), CAST(:after_key AS text))
    ORDER BY rank DESC, key DESC
    LIMIT :limit
)
SELECT page.rank, page.key, page.conversation_id, o.title, page.message_id, page.role, page.created_at,
       ts_headline(q.language, translate(page.body, :markers, ''), q.query, :headline) AS snippet
FROM page JOIN owned o ON o.id = page.conversation_id, q
ORDER BY page.rank DESC, page.key DESC
"""


@dataclass(frozen=True)
class Hit:
    rank: float
    # The keyset's tie-breaker: a message's id or a conversation's, as text.
    key: str
    conversation_id: uuid.UUID
    title: str | None
    # None for a hit on the conversation's title.
    message_id: int | None
    role: str | None
    created_at: datetime | None
    # The matched text, its matches between START and STOP.
    snippet: str


class SearchRepository:
    def __init__(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        self.session = session
        self.user_id = user_id

    async def page(
        self, query: SearchQuery, archived: ArchivedFilter, limit: int, after: tuple[float, str] | None
    ) -> Sequence[Hit]:
        """Up to `limit` hits ranked after `after` (the last hit of the page before)."""
        rows = await self.session.execute(
            text(SEARCH_SQL), search_params(self.user_id, query, archived, limit, after)
        )
        return [Hit(**row._mapping) for row in rows]


def search_params(
    user_id: uuid.UUID,
    query: SearchQuery,
    archived: ArchivedFilter,
    limit: int,
    after: tuple[float, str] | None,
) -> dict[str, Any]:
    """SEARCH_SQL's parameters."""
    return {
        "words": query.words,
        "prefix": query.prefix,
        "either": query.either,
        "user_id": user_id,
        "archived": archived,
        "after_rank": after[0] if after else None,
        "after_key": after[1] if after else None,
        "limit": limit,
        "markers": START + STOP,
        "headline": _HEADLINE,
    }
