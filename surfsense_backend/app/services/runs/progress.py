"""A streaming reply's text so far, and the run's events, stored now and then:
for readers who reload, and for streams served by other processes."""

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import session_scope
from app.errors import NotFound
from app.observability.background import background_failed
from app.services.persistence import ConversationStorage, is_transient
from app.services.runs.event_log import EventLog
from app.services.runs.repository import RunRepository

logger = logging.getLogger(__name__)


class ReplyProgress:
    """Collects a reply's tokens and stores their text, with the run's events
    not stored yet, at most every `interval` seconds: one short transaction
    each time, never one per token.

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
        *,
        log: EventLog,
    ) -> None:
        self.sessions = sessions
        self.conversation_id = conversation_id
        self.run_id = run_id
        self.reply_id = reply_id
        self.interval = interval
        self.log = log
        self._parts: list[str] = []
        # How many of the segment's tokens are stored already.
        self._stored_parts = 0
        self._stored_at = time.monotonic()
        self._writing: asyncio.Task[None] | None = None
        # Held by a write, ours or the recorder's: one at a time, in order.
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    def add(self, token: str) -> None:
        self._parts.append(token)
        self.poke()

    def poke(self) -> None:
        """Events were appended: store them (and the text) once the interval
        has passed; a timer stores what the run appends before a quiet spell
        (a tool working for a minute), so other processes see it."""
        self._timer = None
        if self._closed:
            return
        now = time.monotonic()
        busy = self._lock.locked() or (self._writing is not None and not self._writing.done())
        if busy or now - self._stored_at < self.interval:
            if self._timer is None:
                # Until the interval ends; while a write is busy, a moment (never a spin).
                wait = max(self._stored_at + self.interval - now, 0.0) or max(self.interval, 0.05)
                self._timer = asyncio.get_running_loop().call_later(wait, self.poke)
            return
        if len(self._parts) == self._stored_parts and self.log.stored == len(self.log.events):
            return
        self._stored_at = now
        self._writing = asyncio.create_task(self._store())

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[int | None]:
        """No write of ours in flight or starting meanwhile, so the caller's
        transaction stores the events not stored yet; the segment's reply id,
        if one was stored. (A write is waited for, never cancelled, which can
        cost the pool its connection.)"""
        async with self._lock:
            yield self.reply_id

    def next_segment(self) -> None:
        """The current segment's reply is finished; the next tokens start another."""
        self.reply_id = None
        self._parts = []
        self._stored_parts = 0
        self._stored_at = time.monotonic()

    async def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._writing is not None:
            await self._writing  # waited for, never cancelled: see `exclusive`

    async def _store(self) -> None:
        try:
            async with self._lock:
                await self._write()
        except Exception as exc:
            # Progress is a courtesy to readers; the whole reply is stored at
            # the end, and the events not stored go with the next write. A run
            # deleted meanwhile (NotFound) learns it from its lease within a poll.
            if is_transient(exc) or isinstance(exc, NotFound):
                logger.info("could not store the progress of run %s: %s", self.run_id, type(exc).__name__)
            else:
                background_failed(
                    logger, "reply_progress", f"could not store the progress of run {self.run_id}", exc
                )

    async def _write(self) -> None:
        # Read under the lock: the recorder may have stored some meanwhile.
        count = len(self._parts)
        text = "".join(self._parts) if count > self._stored_parts else None
        batch = self.log.batch()
        async with session_scope(self.sessions) as session:
            if text is not None:
                await self._store_text(ConversationStorage(session), text)
            if batch is not None:
                await RunRepository(session).add_events(self.run_id, *batch)
        self._stored_parts = count
        if batch is not None:
            self.log.committed(batch[0])

    async def _store_text(self, storage: ConversationStorage, text: str) -> None:
        if self.reply_id is None:
            reply = await storage.begin_reply(self.conversation_id, run_id=self.run_id, text=text)
            self.reply_id = reply.id
        else:
            await storage.stream_reply(self.reply_id, text)
