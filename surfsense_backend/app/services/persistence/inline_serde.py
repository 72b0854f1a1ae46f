"""Where the saver (de)serialises: on the event loop when the values are
small, in a worker thread when they are large.

The stock saver sends every write batch, every checkpoint's blobs and every
loaded row's pending writes to a worker thread (`asyncio.to_thread`): four to
five hops a chat turn, each costing more than encoding a message does (9 µs
for one; a 100-message snapshot 0.7 ms). Inline, W1 ran 15% faster (decision
0006). A large state still goes to a thread, so the loop never stalls on it;
telling the two apart must not cost what it saves, so the estimate walks the
values only as far as the budget and gives up on what it cannot size.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from langgraph.checkpoint.base import Checkpoint

from app.services.persistence.upstream import DeltaSnapshot

# About half a millisecond of msgpack at most (a 100-message window, ~40 KB
# encoded, takes 0.7 ms); a thread hop, with the GIL handed back and forth,
# costs more than that much work under load.
INLINE_BYTES = 64 * 1024

# What each object adds to the estimate besides its text, so that many small
# objects count too.
_OBJECT_BYTES = 16

_SCALARS = (type(None), bool, int, float, complex, Decimal, Enum, UUID, date, time, timedelta)
_PRIMITIVES = (str, int, float, bool)


def fits_inline(values: Iterable[Any], budget: int = INLINE_BYTES) -> bool:
    """Whether `values` are provably smaller than `budget` bytes, estimated.

    Text and bytes count their length, containers and models their items and
    fields; a kind of object it cannot size (a NumPy array, an object with
    slots) counts as large and goes to a thread, as does anything once the
    budget is spent, so the walk stops early on large or cyclic values.
    """
    pending = list(values)
    left = budget
    while pending:
        value = pending.pop()
        left -= _OBJECT_BYTES
        if isinstance(value, str | bytes | bytearray):
            left -= len(value)
        elif isinstance(value, memoryview):
            left -= value.nbytes
        elif isinstance(value, _SCALARS):
            pass
        elif isinstance(value, Mapping):
            left -= _OBJECT_BYTES * len(value)
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list | tuple | set | frozenset):
            left -= _OBJECT_BYTES * len(value)
            pending.extend(value)
        elif (fields := getattr(value, "__dict__", None)) is not None and not isinstance(value, type):
            # Pydantic models (messages), dataclasses, plain objects.
            pending.extend(fields.values())
            pending.extend((getattr(value, "__pydantic_extra__", None) or {}).values())
        else:
            return False
        if left < 0:
            return False
    return True


def row_fits_inline(row: Mapping[str, Any], budget: int = INLINE_BYTES) -> bool:
    """Whether a loaded checkpoint row's encoded blobs and pending writes are
    within `budget` bytes: what decoding them costs, known before decoding."""
    blobs: Sequence[tuple[bytes, bytes, bytes | None]] = row["channel_values"] or ()
    writes: Sequence[tuple[bytes, ...]] = row["pending_writes"] or ()
    size = sum(len(blob or b"") for _, _, blob in blobs) + sum(len(write[3] or b"") for write in writes)
    return size <= budget


def split_channel_values(checkpoint: Checkpoint) -> tuple[Checkpoint, dict[str, Any]]:
    """The checkpoint as its row stores it, and the values that go to blobs,
    as the stock saver splits them: primitives stay in the row, everything
    else is a blob, and a DeltaChannel snapshot leaves `True` in its place."""
    row = checkpoint.copy()
    row["channel_values"] = dict(checkpoint["channel_values"])
    blobs: dict[str, Any] = {}
    for channel, value in checkpoint["channel_values"].items():
        if isinstance(value, DeltaSnapshot):
            blobs[channel] = value
            row["channel_values"][channel] = True
        elif value is not None and not isinstance(value, _PRIMITIVES):
            blobs[channel] = row["channel_values"].pop(channel)
    return row, blobs
