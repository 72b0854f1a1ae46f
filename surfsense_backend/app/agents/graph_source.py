"""What a `langgraph.json` graph may be, as on the Agent Server, and the
graph it gives, always on the app's shared saver.

- a compiled graph (Pregel, CompiledStateGraph): compiled with a checkpointer
  of its own (a MemorySaver, say), it runs on a copy that has the shared one
  instead, as the Agent Server does; its subgraphs compiled
  `checkpointer=True` keep following their parent's;
- a `StateGraph`: compiled here, on the shared saver;
- a factory, sync or async, called per run: taking nothing, the run's
  `config` (RunnableConfig), a `ServerRuntime` (langgraph-sdk's, annotated
  so), or both; returning one of the above, or a context manager (sync or
  async) that yields one and stays open for the run.
"""

import inspect
import typing
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any, get_args, get_origin

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from app.agents.sdk_runtime import RUNTIME_CLASSES, ServerRuntime, execution_runtime, read_runtime

AnyGraph = Pregel[Any, Any, Any, Any]
# (config, runtime) -> the factory's keyword arguments.
Arguments = Callable[[RunnableConfig, Any], dict[str, Any]]


class NotAGraph(TypeError):
    def __init__(self, value: object) -> None:
        super().__init__(
            f"{type(value).__name__} is not a graph: expected a compiled graph, "
            "a StateGraph or a function that returns one"
        )


def on_saver(value: object, saver: BaseCheckpointSaver[Any], graph_id: str) -> AnyGraph:
    """`value` as a graph that checkpoints with `saver`; LangGraph's default
    name gives way to the graph's id, as on the Agent Server."""
    if isinstance(value, StateGraph):
        return value.compile(checkpointer=saver, name=graph_id)
    if not isinstance(value, Pregel):
        raise NotAGraph(value)
    update: dict[str, Any] = {}
    if value.checkpointer is not saver:
        update["checkpointer"] = saver
    if value.name == "LangGraph":
        update["name"] = graph_id
    return value.copy(update=update) if update else value


def _is_runtime(annotation: Any) -> bool:
    """Whether a parameter's annotation asks for the server's runtime."""
    if annotation is ServerRuntime or get_origin(annotation) is ServerRuntime:
        return True
    if isinstance(annotation, str):  # unresolved: the name is what the user wrote
        return annotation.split("[", 1)[0].strip() == "ServerRuntime"
    if isinstance(annotation, type):
        return issubclass(annotation, RUNTIME_CLASSES)
    return any(_is_runtime(argument) for argument in get_args(annotation))


def factory_arguments(factory: Callable[..., Any]) -> Arguments:
    """How to call `factory`: its parameters, by what each asks for (one
    annotated ServerRuntime gets the runtime; the other, the config). More
    than two, or two without one runtime, is a ValueError."""
    parameters = list(inspect.signature(factory).parameters.values())
    try:
        hints = typing.get_type_hints(factory, localns={"ServerRuntime": ServerRuntime})
    except (NameError, TypeError):
        hints = {}
    runtime = {p.name for p in parameters if _is_runtime(hints.get(p.name, p.annotation))}
    if len(parameters) > 2 or (len(parameters) == 2 and len(runtime) != 1):
        raise ValueError(
            "a graph factory takes nothing, a config, a ServerRuntime, or a config and a ServerRuntime"
        )

    def arguments(config: RunnableConfig, server_runtime: Any) -> dict[str, Any]:
        return {p.name: server_runtime if p.name in runtime else config for p in parameters}

    return arguments


@asynccontextmanager
async def _made(value: Any) -> AsyncIterator[Any]:
    """What a factory returned, awaited or entered."""
    if inspect.isawaitable(value):
        value = await value
    if hasattr(value, "__aenter__"):
        async with value as graph:
            yield graph
    elif hasattr(value, "__enter__"):
        with value as graph:
            yield graph
    else:
        yield value


@dataclass(frozen=True)
class GraphFactory:
    """A factory entry: called for each run with the run's config and context."""

    graph_id: str
    make: Callable[..., Any]
    saver: BaseCheckpointSaver[Any]

    @cached_property
    def arguments(self) -> Arguments:
        return factory_arguments(self.make)

    @asynccontextmanager
    async def open(
        self, config: RunnableConfig, *, context: Any = None, store: Any = None, execution: bool = True
    ) -> AsyncIterator[AnyGraph]:
        """The graph the factory makes for `config`: for a run (`execution`,
        the runtime holds its `context` and its user's `store`), or to read
        its shape and state (no store: a read acts for nobody)."""
        runtime = execution_runtime(context, store) if execution else read_runtime()
        async with _made(self.make(**self.arguments(config, runtime))) as made:
            yield on_saver(made, self.saver, self.graph_id)
