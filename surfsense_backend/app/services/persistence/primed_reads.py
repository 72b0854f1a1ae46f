"""A run's first read of its thread's state, answered by the read made as it
was admitted.

Admission reads the state a run starts from (`GraphAgent.waiting`: does the
graph wait at an interrupt?), and LangGraph reads that same state again as
the run's graph starts: its checkpoint (`aget_tuple`) and its DeltaChannels'
history (`aget_delta_channel_history`), 3 statements each time. Nothing
writes the thread between the two (one run per conversation, under its
lock; no state update while a run is active), so the second read would find
the rows the first found. A `StateRead` keeps those rows as they were read,
undecoded, and the saver answers the run's first read of the same state
from them, once, decoded afresh: LangGraph changes the checkpoint it is
handed in place (it applies pending writes to it), so no object the first
reader had reaches the graph.

Only the root graph's read (checkpoint namespace "") of the thread and the
checkpoint asked for (an id, or the latest) is answered so; a subgraph's, or
one of another thread, checkpoint or saver goes to the database, as does any
read once the run has written the thread or ended.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import get_checkpoint_id
from psycopg.rows import DictRow

from app.services.persistence.delta_history import HistoryRows


class _Stage(Enum):
    RECORDING = auto()  # the admission's read of the checkpoint is awaited
    RECORDED = auto()  # its checkpoint kept; the history read of it is awaited
    PRIMED = auto()  # recorded; answers the run's read of the checkpoint
    SERVED = auto()  # the checkpoint answered; answers the read of its history
    SPENT = auto()  # answers nothing more


@dataclass(eq=False)
class StateRead:
    """What one read of a thread's root state found in the database: the
    checkpoint's row (None: there was none) and its DeltaChannels' history."""

    saver: object
    thread_id: str
    # The checkpoint asked for; None: the latest.
    asked: str | None
    stage: _Stage = _Stage.RECORDING
    row: DictRow | None = None
    history: HistoryRows | None = None
    # True while the saver decodes the checkpoint row being recorded.
    keeping_row: bool = False

    def _root_of(self, saver: object, config: RunnableConfig) -> bool:
        configurable = config["configurable"]
        return (
            saver is self.saver
            and str(configurable.get("thread_id")) == self.thread_id
            and configurable.get("checkpoint_ns", "") == ""
        )

    def _asked(self, saver: object, config: RunnableConfig) -> bool:
        return self._root_of(saver, config) and get_checkpoint_id(config) == self.asked

    def _found(self, saver: object, config: RunnableConfig) -> bool:
        found = self.row["checkpoint_id"] if self.row is not None else None
        return found is not None and self._root_of(saver, config) and get_checkpoint_id(config) == found

    def records_checkpoint(self, saver: object, config: RunnableConfig) -> bool:
        return self.stage is _Stage.RECORDING and self._asked(saver, config)

    def keep_row(self, row: DictRow) -> None:
        # Decoding shares the row's JSON (the checkpoint, its metadata) with
        # what the reader gets, who may change it: the kept row has its own
        # (blobs are bytes, which no one changes).
        self.row = {
            **row,
            "checkpoint": _json_copy(row["checkpoint"]),
            "metadata": _json_copy(row["metadata"]),
        }

    def checkpoint_recorded(self) -> None:
        self.stage = _Stage.RECORDED if self.row is not None else _Stage.PRIMED

    def records_history(self, saver: object, config: RunnableConfig) -> bool:
        return self.stage is _Stage.RECORDED and self._found(saver, config)

    def keep_history(self, rows: HistoryRows) -> None:
        self.history = rows
        self.stage = _Stage.PRIMED

    def answers_checkpoint(self, saver: object, config: RunnableConfig) -> bool:
        """Whether it answers this read of the checkpoint; if so it is taken."""
        if self.stage is not _Stage.PRIMED or not self._asked(saver, config):
            return False
        self.stage = _Stage.SERVED if self.history is not None else _Stage.SPENT
        return True

    def answers_history(
        self, saver: object, config: RunnableConfig, channels: Sequence[str]
    ) -> HistoryRows | None:
        """The kept history, if it answers this read of the served checkpoint's history (taken then)."""
        history = self.history
        if self.stage is not _Stage.SERVED or history is None or history.channels != tuple(channels):
            return None
        if not self._found(saver, config):
            return None
        self.stage = _Stage.SPENT
        return history

    def written(self, saver: object, config: RunnableConfig) -> None:
        """The saver writes to a thread: if it is this one, its state moved on."""
        if saver is self.saver and str(config["configurable"].get("thread_id")) == self.thread_id:
            self.spend()

    def spend(self) -> None:
        self.stage = _Stage.SPENT
        self.row = self.history = None


def _json_copy(value: Any) -> Any:
    """A copy of decoded JSON: 18 us for a chat checkpoint and its metadata
    where `copy.deepcopy` takes 89 (measured)."""
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
    return value


_RECORDING: ContextVar[StateRead | None] = ContextVar("state_read_recording", default=None)
_PRIMED: ContextVar[StateRead | None] = ContextVar("state_read_primed", default=None)


@contextmanager
def recording(saver: object, thread_id: str, checkpoint_id: str | None) -> Iterator[StateRead]:
    """Keep what `saver` reads, within the block, of the thread's root state
    at `checkpoint_id` (None: the latest)."""
    read = StateRead(saver, thread_id, checkpoint_id)
    token = _RECORDING.set(read)
    try:
        yield read
    finally:
        _RECORDING.reset(token)
        # A read that raised, or a checkpoint whose history was not read
        # (it needs none), is kept as far as it went.
        if read.stage is _Stage.RECORDED:
            read.stage = _Stage.PRIMED
        elif read.stage is _Stage.RECORDING:
            read.spend()


def recorded() -> StateRead | None:
    """The read this task records, if any."""
    return _RECORDING.get()


def prime(read: StateRead) -> None:
    """Answer this task's next read of `read`'s state from it, once; tasks it
    starts from now on share it (contextvars are copied into a new task).
    The caller spends it when its run ends."""
    _PRIMED.set(read)


def primed() -> StateRead | None:
    """The read this task's run started from, if any."""
    return _PRIMED.get()
