"""The runtime a graph factory is handed, as the Agent Server builds it.

langgraph-sdk types it (`ServerRuntime`) but builds it only inside the
server, from two private classes. This module is the agents layer's one
importer of them (the persistence layer's is `services/persistence/upstream.py`),
and checks at import that they still take the fields it passes, so an
upgrade that changes them fails the start, not a run.
"""

import dataclasses
from typing import Any

from langgraph_sdk.runtime import ServerRuntime, _ExecutionRuntime, _ReadRuntime

RUNTIME_CLASSES = (_ExecutionRuntime, _ReadRuntime)
_FIELDS = {
    _ExecutionRuntime: {"access_context", "store", "context"},
    _ReadRuntime: {"access_context", "store"},
}


def _check() -> None:
    for runtime, needed in _FIELDS.items():
        fields = {f.name for f in dataclasses.fields(runtime)}
        if not needed <= fields:
            raise RuntimeError(
                f"langgraph_sdk.runtime.{runtime.__name__} no longer has {sorted(needed - fields)}: "
                "app/agents/sdk_runtime.py must follow the installed langgraph-sdk"
            )


_check()


def execution_runtime(context: Any, store: Any = None) -> Any:
    """The runtime of a factory called to execute a run, holding its `context`
    and its user's `store`."""
    return _ExecutionRuntime(access_context="threads.create_run", store=store, context=context)


def read_runtime() -> Any:
    """The runtime of a factory called to read a graph's shape or state."""
    return _ReadRuntime(access_context="assistants.read", store=None)  # type: ignore[arg-type]


__all__ = ["RUNTIME_CLASSES", "ServerRuntime", "execution_runtime", "read_runtime"]
