"""The upstream internals the saver relies on are checked at import: they
pass on the installed packages, and a change of shape or a missing SQL
fragment stops the import with one line that says what moved."""

from dataclasses import replace
from importlib.metadata import version
from types import ModuleType
from typing import Any, NamedTuple

import pytest

from app.services.persistence.errors import UpstreamChanged
from app.services.persistence.saver_reads import SELECT_SQL
from app.services.persistence.upstream import (
    FRAGMENTS,
    INTERNALS,
    STOCK_BLOB_JOIN,
    Internal,
    check,
    check_fragment,
)

POSTGRES_VERSION = version("langgraph-checkpoint-postgres")


def _internal(owner_name: str, name: str) -> Internal:
    return next(i for i in INTERNALS if i.name == name and i.owner.__name__ == owner_name)


def _module(name: str, **attributes: Any) -> ModuleType:
    """A real module object named as upstream's, holding replacements."""
    module = ModuleType(name)
    for key, value in attributes.items():
        setattr(module, key, value)
    return module


class TestInstalled:
    @pytest.mark.parametrize("internal", INTERNALS, ids=lambda i: i.where)
    def test_every_internal_has_the_shape_the_code_was_written_against(self, internal: Internal) -> None:
        check(internal)

    def test_the_select_fragment_is_there_and_rewritten(self) -> None:
        for fragment in FRAGMENTS:
            check_fragment(fragment)
        assert STOCK_BLOB_JOIN not in SELECT_SQL
        assert "cross join lateral" in SELECT_SQL, "saver_reads.py: the blob lookup was not rewritten"


class TestChanged:
    def test_a_parameter_that_became_positional_is_named_with_both_shapes(self) -> None:
        def _build_delta_stage1_sql(channels: list[str], paged: bool, include_cursor: bool = False) -> str:
            return ""

        base = "langgraph.checkpoint.postgres.base"
        moved = replace(
            _internal(base, "_build_delta_stage1_sql"),
            owner=_module(base, _build_delta_stage1_sql=_build_delta_stage1_sql),
        )
        with pytest.raises(UpstreamChanged) as raised:
            check(moved)
        assert str(raised.value) == (
            f"langgraph-checkpoint-postgres {POSTGRES_VERSION} changed {base}._build_delta_stage1_sql: "
            "expected (channels, *, paged, include_cursor=...), found (channels, paged, include_cursor=...); "
            "see 'Upstream internals' in docs/saver.md"
        )

    def test_a_method_with_a_new_parameter(self) -> None:
        class BasePostgresSaver:
            def _dump_blobs(
                self, thread_id: str, checkpoint_ns: str, values: dict[str, Any], versions: Any, *, at: int
            ) -> None:
                pass

        expected = r"\(self, thread_id, checkpoint_ns, values, versions\)"
        found = r"\(self, thread_id, checkpoint_ns, values, versions, \*, at\)"
        with pytest.raises(UpstreamChanged, match=rf"_dump_blobs: expected {expected}, found {found};"):
            check(replace(_internal("BasePostgresSaver", "_dump_blobs"), owner=BasePostgresSaver))

    def test_a_hook_that_stopped_being_async(self) -> None:
        class AsyncPostgresSaver:
            def _load_checkpoint_tuple(self, value: Any) -> None:
                pass

        with pytest.raises(UpstreamChanged, match=r"expected async \(self, value\), found \(self, value\);"):
            check(
                replace(_internal("AsyncPostgresSaver", "_load_checkpoint_tuple"), owner=AsyncPostgresSaver)
            )

    def test_a_hook_that_is_gone(self) -> None:
        class AsyncPostgresSaver:
            pass

        with pytest.raises(UpstreamChanged, match=r"AsyncPostgresSaver\._cursor: expected .*, found gone;"):
            check(replace(_internal("AsyncPostgresSaver", "_cursor"), owner=AsyncPostgresSaver))

    def test_a_snapshot_class_with_another_field(self) -> None:
        class _DeltaSnapshot(NamedTuple):
            value: Any
            version: int

        types = "langgraph.checkpoint.serde.types"
        moved = replace(
            _internal(types, "_DeltaSnapshot"), owner=_module(types, _DeltaSnapshot=_DeltaSnapshot)
        )
        with pytest.raises(UpstreamChanged) as raised:
            check(moved)
        message = str(raised.value)
        assert message.startswith(
            f"langgraph-checkpoint {version('langgraph-checkpoint')} changed {types}._DeltaSnapshot"
        )
        assert "expected class (value), found class (value, version);" in message

    @pytest.mark.parametrize(("sql", "count"), [("select 1", 0), (STOCK_BLOB_JOIN * 2, 2)])
    def test_a_select_without_the_fragment_once(self, sql: str, count: int) -> None:
        base = "langgraph.checkpoint.postgres.base"
        moved = replace(FRAGMENTS[0], owner=_module(base, SELECT_SQL=sql))
        with pytest.raises(UpstreamChanged) as raised:
            check_fragment(moved)
        assert str(raised.value) == (
            f"langgraph-checkpoint-postgres {POSTGRES_VERSION} changed {base}.SELECT_SQL: "
            f"expected the blob join saver_reads.py rewrites, once, found it {count} times; "
            "see 'Upstream internals' in docs/saver.md"
        )
