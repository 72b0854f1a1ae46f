"""The store in the LangGraph Agent Server API, as langgraph-sdk's
`client.store` sends and reads it. Labels, keys, values and filters are
checked by the store itself (`services/store/checks.py`), so both a client
and a graph get the same refusals."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class StorePutIn(BaseModel):
    namespace: list[str]
    key: str
    value: dict[str, Any]
    # No embedding index yet: accepted as the Agent Server accepts it, and unused.
    index: Literal[False] | list[str] | None = None
    ttl: float | None = None


class StoreDeleteIn(BaseModel):
    namespace: list[str] = Field(default_factory=list)
    key: str


class StoreSearchIn(BaseModel):
    namespace_prefix: list[str] | None = None
    filter: dict[str, Any] | None = None
    limit: int = 10
    offset: int = 0
    query: str | None = None
    refresh_ttl: bool | None = None


class StoreNamespacesIn(BaseModel):
    prefix: list[str] | None = None
    suffix: list[str] | None = None
    max_depth: int | None = None
    limit: int = 100
    offset: int = 0


class ItemOut(BaseModel):
    namespace: list[str]
    key: str
    value: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class SearchItemOut(ItemOut):
    score: float | None = None


class SearchItemsOut(BaseModel):
    items: list[SearchItemOut]


class NamespacesOut(BaseModel):
    namespaces: list[list[str]]
