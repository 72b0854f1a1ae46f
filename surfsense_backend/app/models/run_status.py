"""A run's status and the cancel asked of it: the values `thread_runs` may
hold, and the moves between statuses a run may make.

`pending`: queued behind the conversation's active run (multitask strategy
`enqueue`, or behind a run a newer message cancels). `interrupted`: the graph
stopped at `interrupt()` and waits for a resume. `cancelled`: stopped on
request, keeping the steps it completed. A run is written only through
`RunRepository`, which refuses a move this table does not allow.
"""

from enum import StrEnum


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        """Pending or running: the conversation is busy with it."""
        return self in ACTIVE

    @property
    def final(self) -> bool:
        return self in FINAL

    def can_become(self, status: "RunStatus") -> bool:
        return status in _MOVES[self]


class CancelAction(StrEnum):
    # Stop, and keep the work so far.
    INTERRUPT = "interrupt"
    # Stop, and remove every trace of the run.
    ROLLBACK = "rollback"


# Tuples, in the enum's order: a query's IN list reads the same every time.
ACTIVE = (RunStatus.PENDING, RunStatus.RUNNING)
FINAL = tuple(status for status in RunStatus if status not in ACTIVE)

# A pending run starts, or ends before it starts (cancelled, or failed when
# what it answers is gone by its turn); a running one ends. A running run
# never goes back to pending, and an ended run never moves again.
_MOVES: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.PENDING: frozenset({RunStatus.RUNNING, RunStatus.FAILED, RunStatus.CANCELLED}),
    RunStatus.RUNNING: frozenset(FINAL),
    **{status: frozenset() for status in FINAL},
}


class MultitaskStrategy(StrEnum):
    """What a run sent while its conversation is busy does (the Agent Server's names)."""

    REJECT = "reject"
    ENQUEUE = "enqueue"
    INTERRUPT = "interrupt"
    ROLLBACK = "rollback"

    @property
    def cancels(self) -> CancelAction | None:
        """The cancel it asks of the active runs before this one goes next, if any."""
        return _CANCELS.get(self)


_CANCELS = {
    MultitaskStrategy.INTERRUPT: CancelAction.INTERRUPT,
    MultitaskStrategy.ROLLBACK: CancelAction.ROLLBACK,
}
