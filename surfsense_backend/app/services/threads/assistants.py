"""The registered graphs as the Agent Server's assistants: one assistant per
graph, its id the graph's id, version 1, created when this process compiled it."""

from datetime import UTC, datetime
from typing import Any

from app.agents.registry import Assistant, CompiledAssistants
from app.errors import NotFound

# The graphs are code: they exist from the moment this process compiled them.
COMPILED_AT = datetime.now(UTC)


class AssistantNotFound(NotFound):
    def __init__(self, assistant_id: str) -> None:
        super().__init__(f"Assistant {assistant_id} was not found.")


def assistant_json(assistant: Assistant) -> dict[str, Any]:
    return {
        "assistant_id": assistant.id,
        "graph_id": assistant.id,
        "config": {},
        "context": {},
        "metadata": {},
        "version": 1,
        "name": assistant.name,
        "description": assistant.description,
        "created_at": COMPILED_AT,
        "updated_at": COMPILED_AT,
    }


def find(agents: CompiledAssistants, assistant_id: str) -> Assistant:
    for assistant in agents.registry:
        if assistant.id == assistant_id:
            return assistant
    raise AssistantNotFound(assistant_id)


def search(
    agents: CompiledAssistants,
    *,
    metadata: dict[str, Any] | None,
    graph_id: str | None,
    name: str | None,
    sort_by: str | None,
    descending: bool,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """Assistants matching every filter given (`name` as a substring, any case)."""
    found = [
        assistant_json(a)
        for a in agents.registry
        if (graph_id is None or a.id == graph_id)
        and (name is None or name.casefold() in a.name.casefold())
        and not metadata  # an assistant's metadata is empty: any key filters it out
    ]
    key = sort_by or "created_at"
    found.sort(key=lambda a: (a[key], a["assistant_id"]), reverse=descending)
    return found[offset : offset + limit]


def graph_json(agents: CompiledAssistants, assistant_id: str, xray: bool | int) -> dict[str, Any]:
    """The graph's nodes and edges, as LangGraph Studio draws them."""
    graph = agents[find(agents, assistant_id).id].graph
    drawable: dict[str, Any] = graph.get_graph(xray=xray).to_json()
    return drawable


def _schema(make: Any) -> dict[str, Any] | None:
    try:
        schema: dict[str, Any] = make()
    except Exception:
        return None
    return schema


def schemas_json(agents: CompiledAssistants, assistant_id: str) -> dict[str, Any]:
    assistant = find(agents, assistant_id)
    graph = agents[assistant.id].graph
    return {
        "graph_id": assistant.id,
        "input_schema": _schema(graph.get_input_jsonschema),
        "output_schema": _schema(graph.get_output_jsonschema),
        # The graphs here output their whole state.
        "state_schema": _schema(graph.get_output_jsonschema),
        # LangGraph 1.0 deprecates the config schema for the context's.
        "config_schema": None,
        "context_schema": _schema(graph.get_context_jsonschema),
    }
