"""Pages of a conversation's history, oldest first.

Keyset pagination on (conversation_id, id): a page is one index range scan
however deep it is, and messages added meanwhile never shift it. Whose
conversation it is, and whether it exists, the caller checks first.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidRequest
from app.models import Message
from app.services.messages.errors import MessageNotFound

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class HistoryPage:
    """A page of history, oldest first; `next_before` fetches the page before
    it, `next_after` the page after it (a page opened around a message)."""

    items: list[Message]
    next_before: int | None
    next_after: int | None = None


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}.")


def history_statement(conversation_id: uuid.UUID, limit: int, before: int | None) -> Select[tuple[Message]]:
    """The newest `limit` messages older than `before`, newest first."""
    statement = select(Message).where(Message.conversation_id == conversation_id)
    if before is not None:
        statement = statement.where(Message.id < before)
    return statement.order_by(Message.id.desc()).limit(limit)


class MessageHistory:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def before(self, conversation_id: uuid.UUID, limit: int, before: int | None) -> HistoryPage:
        """The newest `limit` messages older than `before`, oldest first."""
        older, has_older = await self._older(conversation_id, before, limit)
        return HistoryPage(items=older, next_before=older[0].id if has_older else None)

    async def after(self, conversation_id: uuid.UUID, after: int, limit: int) -> HistoryPage:
        """The oldest `limit` messages newer than `after`, oldest first."""
        newer, has_newer = await self._newer(conversation_id, after, limit)
        return HistoryPage(items=newer, next_before=None, next_after=newer[-1].id if has_newer else None)

    async def around(self, conversation_id: uuid.UUID, message_id: int, limit: int) -> HistoryPage:
        """The page with `message_id` in its middle, and the cursors to page
        from it both ways (MessageNotFound if it is not in the conversation)."""
        older, has_older = await self._older(conversation_id, message_id, limit // 2)
        newer, has_newer = await self._newer(conversation_id, message_id - 1, limit - len(older))
        if not newer or newer[0].id != message_id:
            raise MessageNotFound(message_id)
        items = older + newer
        return HistoryPage(
            items=items,
            next_before=items[0].id if has_older else None,
            next_after=items[-1].id if has_newer else None,
        )

    async def _older(
        self, conversation_id: uuid.UUID, before: int | None, limit: int
    ) -> tuple[list[Message], bool]:
        """Up to `limit` messages older than `before`, oldest first, and whether there are more."""
        rows = list(await self.session.scalars(history_statement(conversation_id, limit + 1, before)))
        page = rows[:limit]
        page.reverse()
        return page, len(rows) > limit

    async def _newer(self, conversation_id: uuid.UUID, after: int, limit: int) -> tuple[list[Message], bool]:
        """Up to `limit` messages newer than `after`, oldest first, and whether there are more."""
        statement = (
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.id > after)
            .order_by(Message.id)
            .limit(limit + 1)
        )
        rows = list(await self.session.scalars(statement))
        return rows[:limit], len(rows) > limit
