"""The factory runtime is built from langgraph-sdk's private classes, checked
at import: a field they lose is one clear error at start-up."""

import pytest

from app.agents import sdk_runtime


def test_the_runtimes_carry_what_a_factory_reads() -> None:
    executing = sdk_runtime.execution_runtime({"model": "x"})
    assert (executing.access_context, executing.context, executing.store) == (
        "threads.create_run",
        {"model": "x"},
        None,
    )
    assert sdk_runtime.read_runtime().access_context == "assistants.read"


def test_a_field_the_installed_sdk_lost_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    fields = {cls: {*needed} for cls, needed in sdk_runtime._FIELDS.items()}
    fields[next(iter(fields))].add("gone")
    monkeypatch.setattr(sdk_runtime, "_FIELDS", fields)
    with pytest.raises(RuntimeError, match=r"no longer has \['gone'\]"):
        sdk_runtime._check()
