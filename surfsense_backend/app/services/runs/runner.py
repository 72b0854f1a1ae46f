"""The run engine as the rest of the app uses it: start a run, follow its
events, wait for its result, cancel it, and stop at shutdown.

Each job is a module of its own: `admission` (admitting and queueing, under
the conversation's lock), `execution` (a graph run and its record), `follow`
(any run's events, wherever it executes), `leases` (this process's leases
and what other processes left), over `LocalRuns`, the runs this process
executes. A run executes the same whichever API asked for it: each builds a
`RunSpec` at its edge. Any process starts a queued run when its turn comes.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.agents.registry import CompiledAssistants
from app.db import session_scope
from app.models import CancelAction, ThreadRun
from app.services.conversations.errors import ServerStopping
from app.services.persistence import RetryPolicy
from app.services.runs.admission import Admission, Admitted
from app.services.runs.event_log import Sequenced
from app.services.runs.execution import RunExecutor
from app.services.runs.follow import RunFollower, RunResult, run_result
from app.services.runs.handle import RunHandle
from app.services.runs.leases import LeaseKeeper
from app.services.runs.local import LocalRuns
from app.services.runs.recorder import RunRecorder
from app.services.runs.spec import RunSpec


class ChatRunner:
    """Starts, follows and cancels runs, each call in a unit of work of its
    own: no caller's transaction is held while a run goes on."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        statements: async_sessionmaker[AsyncSession],
        agents: CompiledAssistants,
        retry: RetryPolicy | None = None,
        *,
        lease: float = 10.0,
        poll_interval: float = 0.5,
        progress_interval: float = 0.25,
    ) -> None:
        self.sessions = sessions
        self.agents = agents
        self.local = LocalRuns(lease)
        recorder = RunRecorder(sessions)
        self.admission = Admission(agents, recorder, self.local)
        self.executor = RunExecutor(
            sessions,
            recorder,
            self.local,
            retry or RetryPolicy(),
            progress_interval=progress_interval,
            ended=self._claim_soon,
        )
        # `statements`: sessions for single statements (polls, lease renewals).
        self.follower = RunFollower(statements, self.local.get, poll_interval)
        self.keeper = LeaseKeeper(self.local, statements, poll_interval, self.claim_next)

    def start_keeping_leases(self) -> None:
        self.keeper.start()

    async def start(self, user_id: uuid.UUID, conversation_id: uuid.UUID, spec: RunSpec) -> ThreadRun:
        """The run `spec` asks for in the user's conversation, admitted in a
        unit of work of its own (`Admission.admit` says what its strategy
        does when another runs), started once stored."""
        async with session_scope(self.sessions) as session:
            admitted = await self.admit(session, user_id, conversation_id, spec)
        self.go(admitted)
        return admitted.run

    async def admit(
        self, session: AsyncSession, user_id: uuid.UUID, conversation_id: uuid.UUID, spec: RunSpec
    ) -> Admitted:
        """`start`, in a unit of work of the caller's that prepared the
        conversation (the Agent Server's `if_not_exists`): the caller commits,
        then calls `go`."""
        if self.local.stopping:
            raise ServerStopping
        return await self.admission.admit(session, user_id, conversation_id, spec)

    def go(self, admitted: Admitted) -> None:
        """Once an admission committed: its run starts, the runs it cancelled
        that run here stop, and a queue no one started moves."""
        if admitted.started is not None:
            self._launch(admitted.started)
            return
        if admitted.action is not None:
            self.local.stop(admitted.stopped, admitted.action)
        if admitted.claim:
            self._claim_soon(admitted.run.conversation_id)

    def _launch(self, handle: RunHandle) -> None:
        task = asyncio.create_task(self.executor.execute(handle), name=f"chat-run-{handle.run.run_id}")
        handle.task = task
        self.local.handles[handle.run.run_id] = handle
        self.local.track(task)

    def _claim_soon(self, conversation_id: uuid.UUID) -> None:
        if not self.local.stopping:
            self.local.track(asyncio.create_task(self.claim_next(conversation_id), name="chat-claim"))

    async def claim_next(self, conversation_id: uuid.UUID) -> None:
        """Start the conversation's next queued run here, if none is running."""
        if self.local.stopping:
            return
        async with session_scope(self.sessions) as session:
            handle = await self.admission.next_queued(session, conversation_id)
        if handle is not None:
            self._launch(handle)

    def follow(self, run_id: uuid.UUID, after: int = 0) -> AsyncIterator[Sequenced]:
        """The run's events numbered above `after`, then each as it comes,
        wherever the run executes; the last is the run's end."""
        return self.follower.follow(run_id, after)

    async def result(self, run_id: uuid.UUID) -> RunResult:
        return await run_result(self.follower, run_id)

    async def cancel(
        self, user_id: uuid.UUID, conversation_id: uuid.UUID, run_id: uuid.UUID, action: CancelAction
    ) -> ThreadRun:
        """Cancel the user's pending run now, or ask a running one's process to
        stop it (this process stops its own at once); RunNotFound if it is not
        theirs, RunNotActive if it ended. The run as it was found."""
        async with session_scope(self.sessions) as session:
            run = await self.admission.cancel(session, user_id, conversation_id, run_id, action)
        self.local.stop([run_id], action)
        return run

    def when_ended(self, run_id: uuid.UUID, then: Callable[[], Awaitable[None]]) -> None:
        """Call `then` once the run has ended, wherever it runs (in a task of its own)."""

        async def waiting() -> None:
            async for _ in self.follow(run_id):
                pass
            await then()

        self.local.track(asyncio.create_task(waiting(), name=f"chat-after-{run_id}"))

    def cancel_soon(self, run: ThreadRun, action: CancelAction) -> None:
        """`cancel`, in a task of its own: for a caller that is being cancelled
        itself (a stream whose client left). A run that ended meanwhile stays as it is."""
        if not self.local.stopping:
            cancelling = self.cancel(run.user_id, run.conversation_id, run.run_id, action)
            self.local.track(asyncio.create_task(cancelling, name=f"chat-cancel-{run.run_id}"))

    async def shutdown(self, grace: float) -> None:
        """Refuse new runs; let those in flight finish for `grace` seconds, then
        interrupt them, which ends their streams with an `Interrupted` error."""
        self.local.stopping = True
        await self.keeper.stop()
        if not self.local.tasks:
            return
        _, pending = await asyncio.wait(set(self.local.tasks), timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


__all__ = ["ChatRunner", "RunHandle", "RunResult"]
