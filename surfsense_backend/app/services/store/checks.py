"""What the store accepts, checked before anything is stored or read.

Every refusal is an InvalidStoreInput (422) naming its cause, raised before
any statement runs, so nothing is half-stored. PostgreSQL's text and jsonb
cannot hold NUL, and UTF-8 cannot hold a lone surrogate: both would fail
inside the database as a 500, so they are refused here. A label may not
hold a dot or be empty (LangGraph's rule: the stored prefix joins labels
with dots).
"""

import json
import math
from typing import Any, Literal

from app.config import StoreSettings
from app.services.store.errors import InvalidStoreInput

# PostgreSQL refuses an index row over 2,704 bytes, and the store's keys are
# (prefix, key) for an item and (prefix, key, field) for a vector: each part
# bounded so that their sum always fits with the owner's label in front,
# refused here rather than failing in the insert.
MAX_NAMESPACE_BYTES = 1024
MAX_KEY_BYTES = 1024
MAX_FIELD_BYTES = 256


def _check_size(what: str, text: str, most: int) -> str:
    size = len(text.encode("utf-8"))
    if size > most:
        raise InvalidStoreInput(f"{what} is {size} bytes; the store keeps at most {most}.")
    return text


def check_text(what: str, text: object) -> str:
    """`text` if it is a string PostgreSQL can store."""
    if not isinstance(text, str):
        raise InvalidStoreInput(f"{what} must be a string, not {type(text).__name__}.")
    if "\x00" in text:
        raise InvalidStoreInput(f"{what} {text!r} contains a NUL character.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidStoreInput(f"{what} {text!r} contains a lone surrogate.") from None
    return text


def check_label(given: object) -> str:
    label = check_text("A namespace label", given)
    if not label:
        raise InvalidStoreInput("A namespace label must not be empty.")
    if "." in label:
        raise InvalidStoreInput(f"The namespace label {label!r} contains a period.")
    return label


def check_namespace(namespace: object, settings: StoreSettings, *, empty: bool = False) -> tuple[str, ...]:
    """A namespace (or, with `empty`, a prefix that may have no labels)."""
    if not isinstance(namespace, list | tuple):
        raise InvalidStoreInput(f"A namespace must be a list of labels, not {type(namespace).__name__}.")
    if not namespace and not empty:
        raise InvalidStoreInput("A namespace must have at least one label.")
    if len(namespace) > settings.max_namespace_depth:
        raise InvalidStoreInput(
            f"A namespace may have at most {settings.max_namespace_depth} labels; "
            f"this one has {len(namespace)}."
        )
    labels = tuple(check_label(label) for label in namespace)
    _check_size("A namespace, its labels joined by periods,", ".".join(labels), MAX_NAMESPACE_BYTES)
    return labels


def check_key(given: object) -> str:
    key = check_text("A key", given)
    if not key:
        raise InvalidStoreInput("A key must not be empty.")
    return _check_size("A key", key, MAX_KEY_BYTES)


def check_json(value: Any, path: str) -> None:
    """Refuse what jsonb cannot hold: NUL, lone surrogates, NaN, non-JSON types."""
    if isinstance(value, str):
        check_text(f"The string at {path}", value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidStoreInput(f"The number at {path} is {value}: JSON has no such number.")
    elif isinstance(value, dict):
        for name, inner in value.items():
            check_text(f"The name at {path}", name)
            check_json(inner, f"{path}.{name}")
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            check_json(inner, f"{path}[{index}]")
    elif value is not None and not isinstance(value, bool | int | float):
        raise InvalidStoreInput(f"The value at {path} is a {type(value).__name__}, not JSON.")


def check_value(value: object, settings: StoreSettings) -> dict[str, Any]:
    """A value the store can keep: a JSON object within the size limit."""
    if not isinstance(value, dict):
        raise InvalidStoreInput(f"A value must be a JSON object, not {type(value).__name__}.")
    check_json(value, "value")
    _check_size("The value, as JSON,", json.dumps(value, ensure_ascii=False), settings.max_value_bytes)
    return value


def check_bounds(limit: object, offset: object, settings: StoreSettings) -> tuple[int, int]:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= settings.max_limit:
        raise InvalidStoreInput(
            f"limit must be a whole number from 1 to {settings.max_limit}, not {limit!r}."
        )
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidStoreInput(f"offset must be a whole number of at least 0, not {offset!r}.")
    return limit, offset


def check_index(index: object) -> Literal[False] | list[str] | None:
    """A put's `index`: None (the default fields), False (none), or field paths."""
    if index is None or index is False:
        return index
    if not isinstance(index, list | tuple) or not index:
        raise InvalidStoreInput("index must be false, null or a non-empty list of field paths.")
    paths = [check_text("An index field path", path) for path in index]
    if not all(paths):
        raise InvalidStoreInput("An index field path must not be empty.")
    return [_check_size("An index field path", path, MAX_FIELD_BYTES) for path in paths]


def check_ttl(ttl: object) -> float | None:
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl) or ttl <= 0:
        raise InvalidStoreInput(f"ttl must be a positive number of minutes, not {ttl!r}.")
    return float(ttl)
