"""Whether a thread's values hold a filter's, as PostgreSQL's `jsonb @>` says
of JSON: every key of an object with a value that holds the filter's, every
item of an array held by some item, equal scalars."""

from typing import Any


def contains(value: Any, pattern: Any) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            k in value and contains(value[k], v) for k, v in pattern.items()
        )
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(contains(item, p) for item in value) for p in pattern)
    return bool(value == pattern) and isinstance(value, bool) == isinstance(pattern, bool)
