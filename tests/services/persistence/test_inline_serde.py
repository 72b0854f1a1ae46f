"""The saver encodes and decodes small values on the event loop and large ones
in a worker thread, and stores the same rows either way."""

import threading
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointMetadata, empty_checkpoint
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.serde.types import _DeltaSnapshot

from app.services.persistence import MessageCheckpointer
from app.services.persistence.inline_serde import INLINE_BYTES, fits_inline, split_channel_values
from app.services.persistence.saver import PooledPostgresSaver

WINDOW = [HumanMessage("q" * 200) if i % 2 else AIMessage("a" * 200) for i in range(100)]


class _Slotted:
    __slots__ = ("payload",)

    def __init__(self, payload: str) -> None:
        self.payload = payload


@dataclass
class _Document:
    title: str
    body: str


def test_messages_of_a_chat_turn_and_a_full_window_fit() -> None:
    assert fits_inline([HumanMessage("hello")])
    assert fits_inline([_DeltaSnapshot(WINDOW)])


@pytest.mark.parametrize(
    "value",
    [
        "x" * (INLINE_BYTES + 1),
        b"x" * (INLINE_BYTES + 1),
        list(range(1_000_000)),
        {f"k{i}": i for i in range(100_000)},
        [HumanMessage("x" * 1_000)] * 100,
        HumanMessage("short", attachment="x" * INLINE_BYTES),  # an extra field counts too
        _Document("title", "x" * INLINE_BYTES),
    ],
    ids=["text", "bytes", "many-ints", "many-keys", "many-messages", "extra-field", "dataclass"],
)
def test_large_values_do_not_fit(value: Any) -> None:
    assert not fits_inline([value])


def test_what_cannot_be_sized_does_not_fit() -> None:
    assert not fits_inline([_Slotted("tiny")])
    assert not fits_inline([{"nested": [_Slotted("tiny")]}])


def test_a_cycle_ends_the_walk() -> None:
    loop: list[Any] = []
    loop.append(loop)
    assert not fits_inline([loop])


def test_the_row_and_its_blobs_split_as_the_stock_saver_splits_them() -> None:
    checkpoint = empty_checkpoint()
    snapshot = _DeltaSnapshot(WINDOW[:2])
    checkpoint["channel_values"] = {"n": 1, "s": "x", "none": None, "messages": snapshot, "docs": ["d"]}
    row, blobs = split_channel_values(checkpoint)
    assert row["channel_values"] == {"n": 1, "s": "x", "none": None, "messages": True}
    assert blobs == {"messages": snapshot, "docs": ["d"]}
    assert checkpoint["channel_values"]["docs"] == ["d"]  # the caller's checkpoint is left alone


class _ThreadRecordingSerde(JsonPlusSerializer):
    """Notes which thread each encode and decode ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[tuple[str, str]] = []

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        self.threads.append(("dump", threading.current_thread().name))
        return super().dumps_typed(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        self.threads.append(("load", threading.current_thread().name))
        return super().loads_typed(data)


async def _round_trip(saver: PooledPostgresSaver, value: Any) -> tuple[Any, Any]:
    """Save a checkpoint holding `value` and a pending write of it; load both back."""
    thread = str(uuid.uuid4())
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"docs": value}
    checkpoint["channel_versions"] = {"docs": "1"}
    config: RunnableConfig = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    metadata: CheckpointMetadata = {"source": "input", "step": -1, "parents": {}}
    saved = await saver.aput(config, checkpoint, metadata, {"docs": "1"})
    await saver.aput_writes(saved, [("docs", value)], task_id="task")
    loaded = await saver.aget_tuple(saved)
    assert loaded is not None
    assert loaded.pending_writes is not None
    stock = await AsyncPostgresSaver(saver.conn).aget_tuple(saved)
    assert stock is not None
    assert loaded.checkpoint == stock.checkpoint
    assert loaded.pending_writes == stock.pending_writes
    return loaded.checkpoint["channel_values"]["docs"], loaded.pending_writes[0][2]


@pytest.mark.parametrize(
    ("value", "on_loop"),
    [(WINDOW[:4], True), (["x" * (2 * INLINE_BYTES)], False)],
    ids=["small-on-loop", "large-in-thread"],
)
async def test_where_values_are_encoded_and_decoded(
    checkpointer: MessageCheckpointer, value: Any, on_loop: bool
) -> None:
    saver = await checkpointer.get_saver()
    assert isinstance(saver, PooledPostgresSaver)
    serde = _ThreadRecordingSerde()
    saver.serde = serde
    loop_thread = threading.current_thread().name

    assert await _round_trip(saver, value) == (value, value)

    # A blob and a write encoded, a blob and a write decoded (the stock saver
    # it is compared with has a serializer of its own).
    assert [kind for kind, _ in serde.threads] == ["dump", "dump", "load", "load"]
    assert all((thread == loop_thread) is on_loop for _, thread in serde.threads), serde.threads
