"""The runs this process executes now, the lease it holds them under, and
the tasks it keeps going for them: what the admission and the executor add
to, and the lease keeper, the followers and the shutdown read."""

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from app.errors import AppError
from app.models import CancelAction
from app.observability.background import background_failed
from app.services.runs.handle import RunHandle

logger = logging.getLogger(__name__)


@dataclass
class LocalRuns:
    # How long a lease lasts unless renewed, in seconds.
    lease: float
    # Who holds a lease: this process's runner, for its lifetime.
    owner: uuid.UUID = field(default_factory=uuid.uuid4)
    handles: dict[uuid.UUID, RunHandle] = field(default_factory=dict)
    # Every task of the engine's (runs, claims, cancels, waits), until it ends.
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    # Set at shutdown: no run starts any more.
    stopping: bool = False

    def get(self, run_id: uuid.UUID) -> RunHandle | None:
        """The run, if this process executes it now."""
        return self.handles.get(run_id)

    def stop(self, run_ids: list[uuid.UUID], action: CancelAction) -> None:
        """Runs cancelled here stop now, not at the lease keeper's next poll."""
        for run_id in run_ids:
            if (handle := self.handles.get(run_id)) is not None:
                handle.stop(action)

    def track(self, task: "asyncio.Task[Any]") -> None:
        self.tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: "asyncio.Task[Any]") -> None:
        self.tasks.discard(task)
        # A streamed run has no one awaiting its outcome: an AppError was
        # explained (and logged) already and travelled in its events; anything
        # else escaped that and is a bug, logged here rather than dropped.
        if task.cancelled() or (exc := task.exception()) is None or isinstance(exc, AppError):
            return
        background_failed(logger, "chat_run", f"{task.get_name()} failed", exc)
