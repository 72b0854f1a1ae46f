"""Response bodies of search (routes/search.py presents the service's hits in them)."""

import uuid
from datetime import datetime

from pydantic import BaseModel


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


class SearchPageOut(BaseModel):
    items: list[SearchHitOut]
    next_cursor: str | None
