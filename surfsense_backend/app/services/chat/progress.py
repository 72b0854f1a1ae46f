"""A streaming reply's text so far, stored now and then for readers who reload."""

import asyncio
import logging
import time
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import session_scope
from app.observability.background import background_failed
from app.services.persistence import ConversationStorage, is_transient

logger = logging.getLogger(__name__)


class ReplyProgress:
    """Collects a reply's tokens and stores their text at most every `interval`
    seconds: one short transaction each time, never one per token.

    The write runs beside the stream, never in its way: a slow or unreachable
    database delays what a reader who reloads sees, not the tokens going out.
    While one write is in flight, no other starts.

    An agent answers in segments (text, tool calls, more text). Each segment
    streams into a reply of its own, created by its first store when the run
    did not place one at its start; `next_segment` hands the reply over to be
    finished with the segment's message and starts afresh.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        conversation_id: uuid.UUID,
        run_id: uuid.UUID,
        reply_id: int | None,
        interval: float,
    ) -> None:
        self.sessions = sessions
        self.conversation_id = conversation_id
        self.run_id = run_id
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

    async def settle(self) -> int | None:
        """Wait for a write still in flight (so none outlives its segment, and
        none is cancelled, which can cost the pool its connection); the
        segment's reply id, if one was stored."""
        if self._writing is not None:
            await self._writing
            self._writing = None
        return self.reply_id

    def next_segment(self) -> None:
        """The current segment's reply is finished; the next tokens start another."""
        self.reply_id = None
        self._parts = []
        self._stored_at = time.monotonic()

    async def close(self) -> None:
        await self.settle()

    async def _store(self, text: str) -> None:
        try:
            async with session_scope(self.sessions) as session:
                storage = ConversationStorage(session)
                if self.reply_id is None:
                    reply = await storage.begin_reply(self.conversation_id, run_id=self.run_id, text=text)
                    self.reply_id = reply.id
                else:
                    await storage.stream_reply(self.reply_id, text)
        except Exception as exc:
            # Progress is a courtesy to readers; the whole reply is stored at the end.
            if is_transient(exc):
                logger.info("could not store the progress of run %s: %s", self.run_id, type(exc).__name__)
            else:
                background_failed(
                    logger, "reply_progress", f"could not store the progress of run {self.run_id}", exc
                )
