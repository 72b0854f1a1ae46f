"""A conversation's title when its owner gave none."""

TITLE_CHARS = 50
_ELLIPSIS = "…"


def derive_title(first_message: str) -> str:
    """The first message, whitespace folded, cut at a word to at most 50 characters."""
    text = " ".join(first_message.split())
    if len(text) <= TITLE_CHARS:
        return text
    room = text[: TITLE_CHARS - len(_ELLIPSIS) + 1]
    cut = room.rfind(" ")
    # A single word longer than the room is cut mid-word rather than dropped.
    head = room[:cut] if cut > 0 else room[:-1]
    return head.rstrip(" ,.;:-") + _ELLIPSIS
