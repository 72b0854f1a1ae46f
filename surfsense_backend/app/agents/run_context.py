"""The runtime context a run gives a graph (`Runtime.context`), from what its
client sent, checked against the graph's `context_schema` as LangGraph
builds it: a run refused at once (422 naming the field) rather than a graph
failing on its first read.

As on the Agent Server, a run that sends no context gives a graph with a
schema the configurable values the schema names (graphs written before
LangGraph 0.6 read their settings there), and a graph without one the
context as sent, else its configurable.
"""

from collections.abc import Mapping
from typing import Any

from pydantic import PydanticUserError, TypeAdapter, ValidationError

from app.errors import InvalidRequest


def problems(error: ValidationError, whole: str = "resume") -> str:
    """What a validation found, one clause per error, each where it was found."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or whole}: {e['msg']}" for e in error.errors())


class InvalidContext(InvalidRequest):
    def __init__(self, graph_id: str, reason: str) -> None:
        super().__init__(f"The {graph_id} graph cannot run with that context: {reason}.")


class ContextSchema:
    """A graph's `context_schema` (a dataclass, TypedDict or pydantic model), or none."""

    def __init__(self, graph_id: str, schema: type[Any] | None) -> None:
        self.graph_id = graph_id
        self.adapter: TypeAdapter[Any] | None = None
        self.fields: set[str] = set()
        if schema is None:
            return
        try:
            self.adapter = TypeAdapter(schema)
            self.fields = set(self.adapter.json_schema().get("properties", {}))
        except PydanticUserError:
            # Fields pydantic cannot read (a connection, say): LangGraph builds it unchecked.
            self.adapter = None

    def context(self, given: Mapping[str, Any] | None, configurable: Mapping[str, Any]) -> Any:
        """The context the graph gets, or InvalidContext."""
        if self.adapter is None:
            return dict(given if given is not None else configurable)
        if given is None:
            given = {key: value for key, value in configurable.items() if key in self.fields}
        try:
            return self.adapter.validate_python(given)
        except ValidationError as error:
            raise InvalidContext(self.graph_id, problems(error, "context")) from error
