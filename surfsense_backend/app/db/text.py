"""What PostgreSQL text can hold: no NUL character, and only valid Unicode.

`text` and `jsonb` refuse U+0000, and a lone surrogate (U+D800 to U+DFFF, which
JSON's `\\ud800` decodes to) has no UTF-8 encoding, so the driver fails before
the statement is sent. Both are refused where text enters the app, once.
"""

from typing import Any

BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1
MAX_DEPTH = 20


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    if "\x00" in text:
        return "contains a NUL character, which PostgreSQL text cannot hold"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate, which is not valid Unicode"
    return None


def unstorable_json(value: Any, depth: int = 0) -> str | None:
    """Why a JSON value cannot be stored (as jsonb, or by LangGraph's
    serializer), or None when it can: its text, its depth, its integers."""
    if depth > MAX_DEPTH:
        return f"nests deeper than {MAX_DEPTH} levels"
    if isinstance(value, str):
        return unstorable(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > BIGINT_MAX:
        return "has an integer outside the 64-bit range"
    children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
    if isinstance(children, list):
        for child in children:
            if reason := unstorable_json(child, depth + 1):
                return reason
    return None
