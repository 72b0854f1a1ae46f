"""Whether a graph takes a `context`: checked against its `context_schema`
before anything is stored or run, so a bad one is a 422 naming the field
rather than a failure inside the graph.

LangGraph builds a dataclass or pydantic context as `schema(**context)` and
passes a TypedDict's as it is (pregel/main.py, `_coerce_context`): the check
is pydantic's validation of the schema, plus the unknown keys a dataclass
refuses as keyword arguments.
"""

from dataclasses import fields, is_dataclass
from typing import Any

from pydantic import PydanticSchemaGenerationError, TypeAdapter, ValidationError

from app.agents.registry import problems


def context_problems(schema: Any, context: dict[str, Any]) -> str | None:
    """Why `schema` refuses `context`, one clause per field; None when it takes
    it, or when the graph declares no schema pydantic can read."""
    if schema is None:
        return None
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(schema)
    except PydanticSchemaGenerationError:
        return None
    try:
        adapter.validate_python(context)
    except ValidationError as error:
        return problems(error, "context")
    if isinstance(schema, type) and is_dataclass(schema):
        unknown = sorted(set(context) - {field.name for field in fields(schema)})
        if unknown:
            return "; ".join(f"{key}: not a field of {schema.__name__}" for key in unknown)
    return None
