"""What PostgreSQL text can hold: no NUL character, and only valid Unicode.

`text` and `jsonb` refuse U+0000, and a lone surrogate (U+D800 to U+DFFF, which
JSON's `\\ud800` decodes to) has no UTF-8 encoding, so the driver fails before
the statement is sent. Both are refused where text enters the app, once.
"""

BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    if "\x00" in text:
        return "contains a NUL character, which PostgreSQL text cannot hold"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate, which is not valid Unicode"
    return None
