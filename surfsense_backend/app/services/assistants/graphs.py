"""An assistant's graph as LangGraph Studio reads it: its drawing, its
schemas and its subgraphs', made with the assistant's config when the graph
is a factory's."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel

from app.agents.graph_agent import GraphAgent
from app.agents.graph_source import AnyGraph
from app.errors import first_line
from app.services.assistants.errors import GraphNotMade


@asynccontextmanager
async def graph_of(agent: GraphAgent, config: dict[str, Any]) -> AsyncIterator[AnyGraph]:
    """The graph `agent` runs for an assistant with `config`: the compiled
    one, or what its factory makes of that config (GraphNotMade if it fails)."""
    if agent.factory is None:
        yield agent.graph
        return
    run_config: RunnableConfig = {**config, "configurable": dict(config.get("configurable") or {})}  # type: ignore[typeddict-item]
    made = False
    try:
        async with agent.factory.open(run_config, execution=False) as graph:
            made = True
            yield graph
    except Exception as exc:
        if made:  # the caller's, not the factory's
            raise
        raise GraphNotMade(agent.assistant_id, f"{type(exc).__name__}: {first_line(exc)}") from exc


def drawing(graph: AnyGraph, xray: bool | int) -> dict[str, Any]:
    """The graph's nodes and edges, as LangGraph Studio draws them."""
    drawn: dict[str, Any] = graph.get_graph(xray=xray).to_json()
    return drawn


def _schema(make: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
    # A schema LangGraph cannot write (a field type pydantic does not know) is
    # absent, as on the Agent Server, rather than a failed request.
    try:
        return make()
    except Exception:
        return None


def schemas(graph: AnyGraph) -> dict[str, Any]:
    return {
        "input_schema": _schema(graph.get_input_jsonschema),
        "output_schema": _schema(graph.get_output_jsonschema),
        # The graphs here output their whole state.
        "state_schema": _schema(graph.get_output_jsonschema),
        # LangGraph 1.0 deprecates the config schema for the context's.
        "config_schema": None,
        "context_schema": _schema(graph.get_context_jsonschema),
    }


async def subgraphs(graph: AnyGraph, namespace: str | None, recurse: bool) -> dict[str, Any]:
    """The schemas of the graph's subgraphs, by namespace (LangGraph's `aget_subgraphs`)."""
    found = {}
    async for ns, sub in graph.aget_subgraphs(namespace=namespace, recurse=recurse):
        # A RemoteGraph's schemas are its server's to give: it has none here.
        if isinstance(sub, Pregel):
            found[ns] = schemas(sub)
    return found
