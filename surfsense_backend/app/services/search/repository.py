"""The search statement: a page of ranked hits in one statement (after one
to read the configuration the vectors are in).

Messages and conversation titles that match, in the owner's conversations,
ranked by `ts_rank`, paged by keyset on (rank, key): a hit's rank for a query
never changes, so a page boundary holds while messages arrive. Snippets are
made for the page's hits only (`ts_headline` is the costly part).
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.services.conversations.archived import ArchivedFilter
from app.services.search.hits import START, STOP, Hit, MessageHit
from app.services.search.query import SearchQuery

# Private-use characters around each match: they cannot come from the text
# (it is stripped of them first), so the page splits on them safely.
_HEADLINE = (
    f'StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'
)

# The query is written out where it is used, from parameters, never read from
# a table or a CTE: the planner then knows its words and estimates from the
# column's statistics how many messages hold them, choosing the GIN index
# for a rare word and the owner's conversations for a common one.
_PREFIX = """(CASE WHEN CAST(:prefix AS text) = '' THEN ''::tsquery
    ELSE to_tsquery(CAST(:language AS regconfig), CAST(:prefix AS text) || ':*') END)"""
_WORDS = "websearch_to_tsquery(CAST(:language AS regconfig), CAST(:words AS text))"
_QUERY = f"(CASE WHEN CAST(:either AS boolean) THEN {_WORDS} || {_PREFIX} ELSE {_WORDS} && {_PREFIX} END)"
_OWNED = """c.user_id = :user_id
    AND (CAST(:archived AS text) = 'all' OR c.archived = (CAST(:archived AS text) = 'true'))"""

SEARCH_SQL = f"""
WITH hits AS (
    SELECT ts_rank(m.search_vector, {_QUERY})::float8 AS rank, 'm' || lpad(m.id::text, 19, '0') AS key,
           m.conversation_id, m.id AS message_id, m.role, m.created_at, m.content AS body
    FROM messages m
    WHERE m.search_vector @@ {_QUERY}
      AND m.conversation_id IN (SELECT c.id FROM conversations c WHERE {_OWNED})
    UNION ALL
    SELECT ts_rank(c.title_vector, {_QUERY})::float8, 'c' || c.id::text,
           c.id, NULL, NULL, NULL, coalesce(c.title, '')
    FROM conversations c
    WHERE {_OWNED} AND c.title_vector @@ {_QUERY}
),
page AS (
    SELECT * FROM hits
    WHERE CAST(:after_rank AS float8) IS NULL
       OR (rank, key) < (CAST(:after_rank AS float8), CAST(:after_key AS text))
    ORDER BY rank DESC, key DESC
    LIMIT :limit
)
SELECT page.rank, page.key, page.conversation_id, c.title, page.message_id, page.role, page.created_at,
       ts_headline(CAST(:language AS regconfig), translate(page.body, :markers, ''), {_QUERY}, :headline)
       AS snippet
FROM page JOIN conversations c ON c.id = page.conversation_id
ORDER BY page.rank DESC, page.key DESC
"""  # noqa: S608 - built from the constants above, every value a parameter


# The same search over messages only, for a program that reads them whole
# (the research agent's tool): every conversation of the owner's but one,
# archived or not, ranked as above.
MESSAGES_SQL = f"""
SELECT m.conversation_id, c.title, m.id AS message_id, m.role, m.content
FROM messages m JOIN conversations c ON c.id = m.conversation_id
WHERE m.search_vector @@ {_QUERY}
  AND m.conversation_id IN (SELECT c.id FROM conversations c WHERE {_OWNED} AND c.id <> :exclude)
ORDER BY ts_rank(m.search_vector, {_QUERY}) DESC, m.id DESC
LIMIT :limit
"""  # noqa: S608 - built from the constants above, every value a parameter


# Before the search, in its transaction: the configuration the vectors are in;
# a plan made for this query's words, even where the driver caches prepared
# statements (a generic plan cannot tell a rare word from a common one, and
# takes seconds on the common); no JIT, whose compile costs more than a page.
_PREPARE_SQL = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true) AS plans,"
    " set_config('jit', 'off', true) AS jit, language::text AS language FROM search_config"
)


class SearchRepository:
    def __init__(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        self.session = session
        self.user_id = user_id

    async def page(
        self, query: SearchQuery, archived: ArchivedFilter, limit: int, after: tuple[float, str] | None
    ) -> Sequence[Hit]:
        """Up to `limit` hits ranked after `after` (the last hit of the page before)."""
        language = (await self.session.execute(_PREPARE_SQL)).one().language
        params = search_params(self.user_id, query, archived, limit, after, language=language)
        rows = await self.session.execute(text(SEARCH_SQL), params)
        return [Hit(**row._mapping) for row in rows]

    async def messages(self, query: SearchQuery, limit: int, exclude: uuid.UUID) -> list[MessageHit]:
        """Up to `limit` whole messages, best first, in any conversation of the owner's but `exclude`."""
        language = (await self.session.execute(_PREPARE_SQL)).one().language
        params = search_params(self.user_id, query, "all", limit, None, language=language)
        rows = await self.session.execute(text(MESSAGES_SQL), {**params, "exclude": exclude})
        return [MessageHit(**row._mapping) for row in rows]


def search_params(
    user_id: uuid.UUID,
    query: SearchQuery,
    archived: ArchivedFilter,
    limit: int,
    after: tuple[float, str] | None,
    *,
    language: str,
) -> dict[str, Any]:
    """SEARCH_SQL's parameters; `language` the search_config's, the one the vectors are in."""
    return {
        "language": language,
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
