"""What the chat API shows of a user's store: their memories, in keyset
pages or by meaning, and deleting one or all of them."""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from langgraph.store.base import SearchItem, SearchOp

from app.services.conversations.cursor import InvalidCursor, sign_fields, signed_fields
from app.services.store import repository
from app.services.store.checks import check_key, check_namespace
from app.services.store.errors import MemoryNotFound
from app.services.store.repository import Row
from app.services.store.store import UserStore


@dataclass(frozen=True)
class MemoryPage:
    items: list[Row]
    next_cursor: str | None


class MemoryService:
    def __init__(self, store: UserStore, secret_key: str) -> None:
        self.store = store
        self.secret_key = secret_key

    def _cursor(self, last: Row) -> str:
        # The sort key, as JSON in base64: a prefix or key may hold the "|" cursors split on.
        fields = [last.updated_at.isoformat(), repository.prefix_text(last.namespace), last.key]
        return sign_fields([base64.urlsafe_b64encode(json.dumps(fields).encode()).decode()], self.secret_key)

    def _after(self, cursor: str) -> tuple[datetime, str, str]:
        try:
            [encoded] = signed_fields(cursor, self.secret_key)
            updated_at, prefix, key = json.loads(base64.urlsafe_b64decode(encoded))
            return datetime.fromisoformat(updated_at), prefix, key
        except (ValueError, binascii.Error, TypeError) as exc:
            raise InvalidCursor from exc

    async def page(self, limit: int, cursor: str | None) -> MemoryPage:
        """A page of the user's memories, newest update first."""
        after = self._after(cursor) if cursor else None
        rows = await repository.page(self.store.store.pool, self.store.owner, after, limit + 1)
        more = len(rows) > limit
        shown = [_without_owner(row) for row in rows[:limit]]
        return MemoryPage(shown, self._cursor(rows[limit - 1]) if more else None)

    async def search(self, query: str, limit: int) -> list[SearchItem]:
        """The user's memories closest in meaning to `query` (by filters and
        recency where the database has no vectors)."""
        [found] = await self.store.abatch([SearchOp((), None, limit, 0, query, self.store.refreshes(None))])
        return cast(list[SearchItem], found)

    async def delete(self, namespace: list[str], key: str) -> None:
        owned = (self.store.owner, *check_namespace(namespace, self.store.store.settings))
        if not await repository.delete_one(self.store.store.pool, owned, check_key(key)):
            raise MemoryNotFound(namespace, key)

    async def delete_all(self) -> int:
        return await repository.delete_all(self.store.store.pool, self.store.owner)


def _without_owner(row: Row) -> Row:
    return Row(row.namespace[1:], row.key, row.value, row.created_at, row.updated_at, row.score)
