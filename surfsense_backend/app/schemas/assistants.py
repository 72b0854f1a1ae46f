"""Assistants in the LangGraph Agent Server API, as langgraph-sdk's
`client.assistants` sends and reads them."""

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from app.db.text import INTEGER_MAX
from app.models.assistant import GRAPH_ID_CHARS, NAME_CHARS
from app.schemas.langgraph import MAX_OFFSET, Metadata, SortOrder
from app.schemas.text import StoredText

AssistantField = Literal[
    "assistant_id",
    "graph_id",
    "name",
    "description",
    "config",
    "context",
    "created_at",
    "updated_at",
    "metadata",
    "version",
]
DESCRIPTION_CHARS = 2000


class AssistantCreateIn(BaseModel):
    graph_id: StoredText = Field(min_length=1, max_length=GRAPH_ID_CHARS)
    assistant_id: StoredText | None = Field(default=None, max_length=64)
    config: Metadata | None = None
    context: Metadata | None = None
    metadata: Metadata | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    name: StoredText | None = Field(default=None, max_length=NAME_CHARS)
    description: StoredText | None = Field(default=None, max_length=DESCRIPTION_CHARS)


class AssistantPatchIn(BaseModel):
    graph_id: StoredText | None = Field(default=None, min_length=1, max_length=GRAPH_ID_CHARS)
    config: Metadata | None = None
    context: Metadata | None = None
    metadata: Metadata | None = None
    name: StoredText | None = Field(default=None, max_length=NAME_CHARS)
    description: StoredText | None = Field(default=None, max_length=DESCRIPTION_CHARS)


class AssistantVersionsIn(BaseModel):
    metadata: Metadata | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class AssistantLatestIn(BaseModel):
    version: int = Field(ge=1, le=INTEGER_MAX)


class AssistantCountIn(BaseModel):
    metadata: Metadata | None = None
    graph_id: StoredText | None = Field(default=None, max_length=GRAPH_ID_CHARS)
    name: StoredText | None = Field(default=None, max_length=NAME_CHARS)


class AssistantSearchIn(AssistantCountIn):
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] = "created_at"
    sort_order: SortOrder = "desc"
    select: list[AssistantField] | None = Field(default=None, max_length=len(get_args(AssistantField)))


class AssistantOut(BaseModel):
    """An assistant; a search with `select` gives only the fields it names."""

    assistant_id: str | None = None
    graph_id: str | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    version: int | None = None
    name: str | None = None
    description: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class AssistantVersionOut(BaseModel):
    assistant_id: str
    graph_id: str
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: dict[str, Any]
    version: int
    name: str
    description: str | None
    created_at: datetime


class GraphSchemaOut(BaseModel):
    graph_id: str
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None
    state_schema: dict[str, Any] | None
    config_schema: dict[str, Any] | None
    context_schema: dict[str, Any] | None


class SubgraphSchemaOut(BaseModel):
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None
    state_schema: dict[str, Any] | None
    config_schema: dict[str, Any] | None
    context_schema: dict[str, Any] | None
