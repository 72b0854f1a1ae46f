"""Response bodies of search."""

import uuid
from datetime import datetime

from pydantic import BaseModel

from app.services.search.repository import START, STOP, Hit


class SnippetPart(BaseModel):
    """A run of the snippet's text; `match` where it matched the query. A page
    renders each part as text (a match highlighted), never as markup."""

    text: str
    match: bool


class SearchConversationOut(BaseModel):
    id: uuid.UUID
    title: str | None


class SearchMessageOut(BaseModel):
    id: int
    role: str
    created_at: datetime


class SearchHitOut(BaseModel):
    conversation: SearchConversationOut
    # None for a hit on the conversation's title.
    message: SearchMessageOut | None
    snippet: list[SnippetPart]
    rank: float

    @classmethod
    def of(cls, hit: Hit) -> "SearchHitOut":
        message = None
        if hit.message_id is not None and hit.role is not None and hit.created_at is not None:
            message = SearchMessageOut(id=hit.message_id, role=hit.role, created_at=hit.created_at)
        return cls(
            conversation=SearchConversationOut(id=hit.conversation_id, title=hit.title),
            message=message,
            snippet=snippet_parts(hit.snippet),
            rank=hit.rank,
        )


class SearchPageOut(BaseModel):
    items: list[SearchHitOut]
    next_cursor: str | None


def snippet_parts(snippet: str) -> list[SnippetPart]:
    """ts_headline's text split at its match markers."""
    parts: list[SnippetPart] = []
    for index, piece in enumerate(snippet.split(START)):
        matched, _, rest = piece.partition(STOP) if index else ("", "", piece)
        parts.extend(SnippetPart(text=t, match=m) for t, m in ((matched, True), (rest, False)) if t)
    return parts
