"""The only module that touches LangGraph's private internals, and checks
them before anything uses them.

Our saver overrides two private hooks of `AsyncPostgresSaver` (`_cursor`,
`_load_checkpoint_tuple`), calls its private helpers (`_dump_blobs`,
`_dump_writes`, the delta walk's SQL builders and steps), rewrites one
fragment of its `SELECT_SQL`, and builds and recognises `_DeltaSnapshot`.
Upstream may change any of them in any release, and a pin cannot say which
patch release did: so at import each one's shape (parameter names, kinds,
order and which have defaults) is compared with the shape this code was
written against, and a difference stops the import with `UpstreamChanged`,
rather than a saver that misbehaves at run time. Every other module takes
these names from here, under public names (a test keeps it so).
"""

import inspect
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import langgraph.checkpoint.serde.types as serde_types
from langgraph.checkpoint.base import CheckpointTuple
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.postgres import base as postgres_base
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncCursor
from psycopg.rows import DictRow

from app.services.persistence.errors import UpstreamChanged

__all__ = [
    "FRAGMENTS",
    "INTERNALS",
    "DeltaSnapshot",
    "Fragment",
    "HookedAsyncPostgresSaver",
    "Internal",
    "build_delta_stage1_sql",
    "build_delta_stage2_sql",
    "check",
    "check_fragment",
    "decode_checkpoint_row",
    "ingest_stage1_page",
    "shape",
    "stock_select_sql",
    "try_advance_walks",
]

POSTGRES = "langgraph-checkpoint-postgres"
CHECKPOINT = "langgraph-checkpoint"

# The stock SELECT joins a checkpoint's channel versions to every blob of its
# thread; saver_reads replaces exactly this text.
STOCK_BLOB_JOIN = """
        from jsonb_each_text(checkpoint -> 'channel_versions')
        inner join checkpoint_blobs bl
            on bl.thread_id = checkpoints.thread_id
            and bl.checkpoint_ns = checkpoints.checkpoint_ns
            and bl.channel = jsonb_each_text.key
            and bl.version = jsonb_each_text.value
"""


@dataclass(frozen=True)
class Internal:
    """One upstream name we rely on, and the shape we rely on it having."""

    package: str
    owner: Any
    name: str
    expected: str

    @property
    def where(self) -> str:
        return f"{getattr(self.owner, '__name__', self.owner)}.{self.name}"


@dataclass(frozen=True)
class Fragment:
    """A piece of an upstream SQL string we rewrite, which must be there once."""

    package: str
    owner: Any
    name: str
    fragment: str


class _Default:
    def __repr__(self) -> str:
        return "..."


_DEFAULT = _Default()


def shape(found: object) -> str:
    """`found`'s parameters by name, kind and order, `=...` marking a default,
    after `class` for a class and `async` for a coroutine or async generator
    (seen through decorators such as `asynccontextmanager`)."""
    if not callable(found):
        return f"not callable ({type(found).__name__})"
    try:
        signature = inspect.signature(found)
    except (TypeError, ValueError):
        return "without a signature"
    parameters = [
        p.replace(annotation=p.empty, default=p.empty if p.default is p.empty else _DEFAULT)
        for p in signature.parameters.values()
    ]
    text = str(signature.replace(parameters=parameters, return_annotation=signature.empty))
    if inspect.isclass(found):
        return f"class {text}"
    unwrapped = inspect.unwrap(found)
    if inspect.iscoroutinefunction(unwrapped) or inspect.isasyncgenfunction(unwrapped):
        return f"async {text}"
    return text


def _changed(package: str, where: str, expected: str, found: str) -> UpstreamChanged:
    return UpstreamChanged(
        f"{package} {version(package)} changed {where}: expected {expected}, found {found}; "
        "see 'Upstream internals' in docs/saver.md"
    )


def check(internal: Internal) -> None:
    """Raise UpstreamChanged unless the internal has the expected shape."""
    upstream = getattr(internal.owner, internal.name, None)
    found = "gone" if upstream is None else shape(upstream)
    if found != internal.expected:
        raise _changed(internal.package, internal.where, internal.expected, found)


def check_fragment(fragment: Fragment) -> None:
    """Raise UpstreamChanged unless the SQL holds the fragment exactly once."""
    text = getattr(fragment.owner, fragment.name, "")
    count = text.count(fragment.fragment) if isinstance(text, str) else 0
    if count != 1:
        where = f"{fragment.owner.__name__}.{fragment.name}"
        raise _changed(
            fragment.package, where, "the blob join saver_reads.py rewrites, once", f"it {count} times"
        )


_SAVER = AsyncPostgresSaver
_BASE = postgres_base.BasePostgresSaver

INTERNALS = (
    # The private hooks our saver overrides, and the stock methods it wraps.
    Internal(POSTGRES, _SAVER, "_cursor", "async (self, *, pipeline=...)"),
    Internal(POSTGRES, _SAVER, "_load_checkpoint_tuple", "async (self, value)"),
    Internal(POSTGRES, PostgresSaver, "_load_checkpoint_tuple", "(self, value)"),
    Internal(POSTGRES, _SAVER, "__init__", "(self, conn, pipe=..., serde=...)"),
    Internal(POSTGRES, _SAVER, "aput", "async (self, config, checkpoint, metadata, new_versions)"),
    Internal(POSTGRES, _SAVER, "aput_writes", "async (self, config, writes, task_id, task_path=...)"),
    Internal(POSTGRES, _SAVER, "aget_tuple", "async (self, config)"),
    Internal(POSTGRES, _SAVER, "alist", "async (self, config, *, filter=..., before=..., limit=...)"),
    Internal(POSTGRES, _SAVER, "aget_delta_channel_history", "async (self, *, config, channels)"),
    # The private helpers it calls.
    Internal(POSTGRES, _BASE, "_dump_blobs", "(self, thread_id, checkpoint_ns, values, versions)"),
    Internal(
        POSTGRES,
        _BASE,
        "_dump_writes",
        "(self, thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, writes)",
    ),
    Internal(POSTGRES, postgres_base, "_build_delta_stage1_sql", "(channels, *, paged, include_cursor=...)"),
    Internal(
        POSTGRES, postgres_base, "_build_delta_stage2_sql", "(*, channels_with_chain, channels_with_seed)"
    ),
    Internal(
        POSTGRES,
        _BASE,
        "_ingest_stage1_page",
        "(stage1_rows, channels, parent_of, ver_by_i_by_cid, hb_by_i_by_cid, inline_by_i_by_cid)",
    ),
    Internal(
        POSTGRES,
        _BASE,
        "_try_advance_walks",
        "(target_id, channels, parent_of, ver_by_i_by_cid, hb_by_i_by_cid, inline_by_i_by_cid,"
        " chain_by_ch, seed_ver_by_ch, seed_inline_by_ch, walk_cursor_by_ch, seeded)",
    ),
    Internal(
        POSTGRES,
        _BASE,
        "_build_delta_channels_writes_history",
        "(self, *, channels, chain_by_ch, seed_ver_by_ch, seed_inline_by_ch, stage2_rows)",
    ),
    # The snapshot a DeltaChannel stores: built from its value, told apart by type.
    Internal(CHECKPOINT, serde_types, "_DeltaSnapshot", "class (value)"),
)

FRAGMENTS = (Fragment(POSTGRES, postgres_base, "SELECT_SQL", STOCK_BLOB_JOIN),)

for _internal in INTERNALS:
    check(_internal)
for _fragment in FRAGMENTS:
    check_fragment(_fragment)


if TYPE_CHECKING:
    from langgraph.checkpoint.serde.types import _DeltaSnapshot as DeltaSnapshot
else:
    DeltaSnapshot = serde_types._DeltaSnapshot
build_delta_stage1_sql = postgres_base._build_delta_stage1_sql
build_delta_stage2_sql = postgres_base._build_delta_stage2_sql
ingest_stage1_page = _BASE._ingest_stage1_page
try_advance_walks = _BASE._try_advance_walks
# The sync saver's row decoding is the async one's without the thread hop.
decode_checkpoint_row: Callable[[Any, DictRow], CheckpointTuple] = PostgresSaver._load_checkpoint_tuple


def stock_select_sql(blob_join: str) -> str:
    """The stock SELECT_SQL with `blob_join` in place of its blob join."""
    return postgres_base.SELECT_SQL.replace(STOCK_BLOB_JOIN, blob_join)


class HookedAsyncPostgresSaver(AsyncPostgresSaver):
    """`AsyncPostgresSaver` with the private hooks a subclass overrides, and
    the private helpers it calls, under public names: override `cursor` and
    `load_checkpoint_tuple`, and every stock query uses them."""

    dump_blobs = _BASE._dump_blobs
    dump_writes = _BASE._dump_writes
    build_delta_channels_writes_history = _BASE._build_delta_channels_writes_history

    def cursor(self, *, pipeline: bool = False) -> AbstractAsyncContextManager[AsyncCursor[DictRow]]:
        """A cursor for one call, taken as the stock saver takes it."""
        return AsyncPostgresSaver._cursor(self, pipeline=pipeline)

    # The stock hook is typed as contextlib's private generator context
    # manager; the stock code only enters what it returns.
    def _cursor(self, *, pipeline: bool = False) -> AbstractAsyncContextManager[AsyncCursor[DictRow]]:  # type: ignore[override]
        return self.cursor(pipeline=pipeline)

    async def load_checkpoint_tuple(self, value: DictRow) -> CheckpointTuple:
        """A loaded row decoded, as the stock saver decodes it."""
        return await AsyncPostgresSaver._load_checkpoint_tuple(self, value)

    def _load_checkpoint_tuple(self, value: DictRow) -> Coroutine[Any, Any, CheckpointTuple]:
        return self.load_checkpoint_tuple(value)
