"""Search as the API serves it: a page of hits and a signed cursor bound to
the query it continues."""

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.conversations.archived import ArchivedFilter
from app.services.conversations.cursor import InvalidCursor, sign_fields, signed_fields
from app.services.search.hits import Hit
from app.services.search.query import parse_query
from app.services.search.repository import SearchRepository


@dataclass(frozen=True)
class SearchPage:
    items: list[Hit]
    next_cursor: str | None


class SearchService:
    def __init__(self, session: AsyncSession, user_id: uuid.UUID, secret_key: str) -> None:
        self.repository = SearchRepository(session, user_id)
        self.secret_key = secret_key

    async def search(self, q: str, archived: ArchivedFilter, limit: int, cursor: str | None) -> SearchPage:
        """The caller's hits for `q`, best first; `cursor` continues a page of the same search."""
        query = parse_query(q)
        scope = _scope(q, archived)
        after = self._after(cursor, scope) if cursor is not None else None
        if query.empty:
            return SearchPage([], None)
        hits = list(await self.repository.page(query, archived, limit + 1, after))
        if len(hits) <= limit:
            return SearchPage(hits, None)
        last = hits[limit - 1]
        return SearchPage(hits[:limit], sign_fields([repr(last.rank), last.key, scope], self.secret_key))

    def _after(self, cursor: str, scope: str) -> tuple[float, str]:
        """The last hit a cursor names; InvalidCursor for a forged one or another search's."""
        try:
            rank, key, signed_scope = signed_fields(cursor, self.secret_key)
            if signed_scope != scope:
                raise InvalidCursor
            return float(rank), key
        except ValueError as exc:
            raise InvalidCursor from exc


def _scope(q: str, archived: str) -> str:
    """What a cursor is bound to: the search it continues."""
    return hashlib.sha256(f"{archived}\n{q}".encode()).hexdigest()[:16]
