"""Response bodies of /api/v1/memories: the caller's store items."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class MemoryOut(BaseModel):
    namespace: list[str]
    key: str
    value: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    # Cosine similarity to a search's query; None in a listing.
    score: float | None = None


class MemoryPageOut(BaseModel):
    items: list[MemoryOut]
    next_cursor: str | None


class MemoriesDeletedOut(BaseModel):
    deleted: int
