"""A JSON value from a client that the database and LangGraph's serializer can hold."""

import json
from typing import Annotated, Any

from pydantic import AfterValidator, JsonValue

from app.db.text import unstorable_json

MAX_JSON_CHARS = 20_000


def _holdable(value: Any) -> Any:
    if reason := unstorable_json(value):
        raise ValueError(f"The value {reason}.")
    return value


def _storable(value: Any) -> Any:
    _holdable(value)
    if len(json.dumps(value, ensure_ascii=False)) > MAX_JSON_CHARS:
        raise ValueError(f"The value is longer than {MAX_JSON_CHARS} characters as JSON.")
    return value


StoredJson = Annotated[JsonValue, AfterValidator(_storable)]
# A graph's input: any size the request body may have (MAX_REQUEST_BYTES);
# the messages in it are bounded one by one, in bytes, where they are stored.
GraphInputValue = Annotated[JsonValue, AfterValidator(_holdable)]
