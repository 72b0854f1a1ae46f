"""Firing due crons, in every app process: each due time fires exactly one
run, whichever and however many processes poll.

A poll claims the due crons (`CronRepository.claim_due`: row locks, rows
another process holds skipped), moves each one's next due time past now, and
admits its run through the run engine, all in one transaction: a process
that dies before it commits fired nothing and the cron stays due for the
next poll, anyone's; once it committed, no poll sees that due time again. A
process that was down while a cron was due fires it once when it polls,
never once per missed time: the next due time is counted from now.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import session_scope
from app.errors import AppError, InvalidRequest
from app.models import Cron
from app.observability.background import background_failed
from app.schemas.langgraph import RunCreateIn
from app.services.conversations.errors import ServerStopping
from app.services.crons.repository import CronRepository
from app.services.crons.schedule import Schedule
from app.services.persistence.retry import is_database_outage
from app.services.runs.admission import Admitted
from app.services.runs.runner import ChatRunner
from app.services.threads.runs import ThreadRunControl

logger = logging.getLogger(__name__)

JOB = "cron_scheduler"
# Crons one transaction claims; a full batch is followed by another at once.
BATCH = 50


def run_request(cron: Cron) -> RunCreateIn:
    """The run a firing starts: the cron's, its metadata naming the cron."""
    payload = dict(cron.payload)
    payload["metadata"] = {**payload.get("metadata", {}), "cron_id": str(cron.cron_id)}
    if cron.conversation_id is None:
        payload["on_completion"] = cron.on_run_completed or "delete"
    return RunCreateIn.model_validate(payload)


@dataclass(frozen=True)
class _Fired:
    control: ThreadRunControl
    admitted: Admitted
    # A stateless run whose thread goes when it ended.
    forget: bool


class CronScheduler:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], runner: ChatRunner, interval: float
    ) -> None:
        self.sessions = sessions
        self.runner = runner
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name=JOB)

    async def stop(self) -> None:
        """Stop polling; a poll under way is cancelled, and its transaction
        rolled back leaves its crons due for another process."""
        if self._task is not None:
            self._stopping.set()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception as exc:
                # Tried again at the next poll: one failure must not end the schedule.
                if is_database_outage(exc):
                    logger.warning("%s skipped, database unavailable: %s", JOB, type(exc).__name__)
                else:
                    background_failed(logger, JOB, f"{JOB} failed; retrying next poll", exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._stopping.wait()

    async def tick(self) -> int:
        """Fire every cron due now; how many were due (a run refused at its time counts)."""
        fired = 0
        while True:
            claimed = await self._fire_batch()
            fired += claimed
            if claimed < BATCH:
                return fired

    async def _fire_batch(self) -> int:
        async with session_scope(self.sessions) as session:
            due = await CronRepository.claim_due(session, BATCH)
            now = await CronRepository.now(session)
            fired = []
            for cron in due:
                await CronRepository.advance(session, cron.cron_id, _next(cron, now))
                if (one := await self._admit(session, cron)) is not None:
                    fired.append(one)
        for one in fired:
            self.runner.go(one.admitted)
            if one.forget:
                one.control.forget_when_ended(one.admitted.run)
        return len(due)

    async def _admit(self, session: AsyncSession, cron: Cron) -> _Fired | None:
        """The cron's run admitted as its user's, in a savepoint: a run the
        engine refuses (its thread busy under `reject`, its assistant gone)
        is logged and this due time passes; the others in the batch fire."""
        cron_id, user_id = cron.cron_id, cron.user_id
        thread_id = None if cron.conversation_id is None else str(cron.conversation_id)
        control = ThreadRunControl(self.sessions, user_id, self.runner.agents, self.runner)
        try:
            body = run_request(cron)
            async with session.begin_nested():
                admitted = await control.admit(session, thread_id, body)
        except ServerStopping:
            raise  # the whole claim rolls back: another process fires it
        except (AppError, ValidationError) as exc:
            logger.warning("cron %s did not fire: %s", cron_id, exc)
            return None
        logger.info("cron %s fired run %s", cron_id, admitted.run.run_id)
        return _Fired(control, admitted, thread_id is None and body.on_completion == "delete")


def _next(cron: Cron, now: datetime) -> datetime | None:
    """The cron's first due time after now; None when it has ended, or when
    its schedule no longer reads (a time zone the system's database dropped)."""
    try:
        return Schedule(cron.schedule, cron.timezone, cron.end_time).next_after(now)
    except InvalidRequest as exc:
        logger.warning("cron %s will not fire again: %s", cron.cron_id, exc)
        return None
