"""A JSON value from a client that the database and LangGraph's serializer can hold."""

import json
from typing import Annotated, Any

from pydantic import AfterValidator, JsonValue

from app.db.text import BIGINT_MAX, unstorable

MAX_JSON_CHARS = 20_000
MAX_DEPTH = 20


def _walk(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"The value nests deeper than {MAX_DEPTH} levels.")
    if isinstance(value, str) and (reason := unstorable(value)):
        raise ValueError(f"Text {reason}.")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > BIGINT_MAX:
        raise ValueError("An integer is outside the 64-bit range.")
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(key, depth + 1)
            _walk(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk(item, depth + 1)


def _storable(value: Any) -> Any:
    _walk(value, 0)
    if len(json.dumps(value, ensure_ascii=False)) > MAX_JSON_CHARS:
        raise ValueError(f"The value is longer than {MAX_JSON_CHARS} characters as JSON.")
    return value


StoredJson = Annotated[JsonValue, AfterValidator(_storable)]
