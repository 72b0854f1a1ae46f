"""A streaming reply's text so far, stored now and then for readers who reload."""

import logging
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import session_scope
from app.services.persistence import ConversationStorage, is_transient

logger = logging.getLogger(__name__)


class ReplyProgress:
    """Collects a reply's tokens and stores their text at most every `interval`
    seconds: one short transaction each time, never one per token."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], reply_id: int, interval: float) -> None:
        self.sessions = sessions
        self.reply_id = reply_id
        self.interval = interval
        self._parts: list[str] = []
        self._stored_at = time.monotonic()

    async def add(self, token: str) -> None:
        self._parts.append(token)
        now = time.monotonic()
        if now - self._stored_at >= self.interval:
            self._stored_at = now
            await self._store()

    async def _store(self) -> None:
        try:
            async with session_scope(self.sessions) as session:
                await ConversationStorage(session).stream_reply(self.reply_id, "".join(self._parts))
        except Exception as exc:
            if not is_transient(exc):
                raise
            # Progress is a courtesy to readers; the whole reply is stored at the end.
            logger.info("could not store the progress of reply %s: %s", self.reply_id, exc)
