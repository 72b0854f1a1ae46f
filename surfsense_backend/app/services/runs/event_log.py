"""One run's events in the process executing it: numbered as they happen,
handed at once to this process's listeners, stored in batches.

A token goes out to a listener here the moment the model makes it; the
database gets the events in the run's own transactions (its start, each step,
each progress write, its end), so a token stream costs one row per progress
interval, and a reader in any process replays the same numbered events.
"""

import asyncio
from collections.abc import AsyncIterator

from app.services.runs.events import ChatEvent, Json, is_final, to_json

Sequenced = tuple[int, ChatEvent]


class EventLog:
    """Event n (from 1) is `events[n - 1]`; the first `stored` are in the database."""

    def __init__(self) -> None:
        self.events: list[ChatEvent] = []
        self.stored = 0
        self._appended = asyncio.Event()

    @property
    def ended(self) -> bool:
        return bool(self.events) and is_final(self.events[-1])

    def append(self, event: ChatEvent) -> int:
        self.events.append(event)
        # Wake every listener waiting now; later waiters get a fresh event.
        self._appended.set()
        self._appended = asyncio.Event()
        return len(self.events)

    def batch(self, *more: ChatEvent) -> tuple[int, list[Json]] | None:
        """The events not stored yet, and `more` (a run's last events, appended
        once the batch commits), as a row's `(seq, events)`; None if none."""
        pending = [*self.events[self.stored :], *more]
        if not pending:
            return None
        return self.stored + len(pending), [to_json(event) for event in pending]

    def committed(self, seq: int) -> None:
        """A batch up to `seq` is in the database."""
        self.stored = max(self.stored, seq)

    async def follow(self, after: int = 0) -> AsyncIterator[Sequenced]:
        """The events after `after`, then each as it comes, until the run's last."""
        while True:
            while after < len(self.events):
                after += 1
                yield after, self.events[after - 1]
            if self.ended:
                return
            await self._appended.wait()
