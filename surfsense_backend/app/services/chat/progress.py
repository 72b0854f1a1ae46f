"""A streaming reply's text so far, stored now and then for readers who reload."""

import asyncio
import logging
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import session_scope
from app.observability.background import background_failed
from app.services.persistence import ConversationStorage, is_transient

logger = logging.getLogger(__name__)


class ReplyProgress:
    """Collects a reply's tokens and stores their text at most every `interval`
    seconds: one short transaction each time, never one per token.

    The write runs beside the stream, never in its way: a slow or unreachable
    database delays what a reloading reader sees, not the tokens going out.
    While one write is in flight, no other starts.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], reply_id: int, interval: float) -> None:
        self.sessions = sessions
        self.reply_id = reply_id
        self.interval = interval
        self._parts: list[str] = []
        self._stored_at = time.monotonic()
        self._writing: asyncio.Task[None] | None = None

    def add(self, token: str) -> None:
        self._parts.append(token)
        now = time.monotonic()
        idle = self._writing is None or self._writing.done()
        if idle and now - self._stored_at >= self.interval:
            self._stored_at = now
            self._writing = asyncio.create_task(self._store("".join(self._parts)))

    async def close(self) -> None:
        """Wait for a write still in flight, so none outlives the run. (Waiting,
        not cancelling: a cancelled query can cost the pool its connection.)"""
        if self._writing is not None:
            await self._writing

    async def _store(self, text: str) -> None:
        try:
            async with session_scope(self.sessions) as session:
                await ConversationStorage(session).stream_reply(self.reply_id, text)
        except Exception as exc:
            # Progress is a courtesy to readers; the whole reply is stored at the end.
            if is_transient(exc):
                logger.info("could not store the progress of reply %s: %s", self.reply_id, type(exc).__name__)
            else:
                background_failed(
                    logger, "reply_progress", f"could not store the progress of reply {self.reply_id}", exc
                )
