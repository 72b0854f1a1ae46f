"""Crons in the LangGraph Agent Server API, as langgraph-sdk's
`client.crons` sends and reads them."""

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from app.models.assistant import GRAPH_ID_CHARS
from app.models.cron import SCHEDULE_CHARS, TIMEZONE_CHARS
from app.schemas.json_value import GraphInputValue, StoredJson
from app.schemas.langgraph import MAX_OFFSET, Metadata, SortOrder, StreamModeName
from app.schemas.text import StoredText

CronField = Literal[
    "cron_id",
    "assistant_id",
    "thread_id",
    "on_run_completed",
    "end_time",
    "schedule",
    "timezone",
    "created_at",
    "updated_at",
    "user_id",
    "payload",
    "next_run_date",
    "metadata",
    "enabled",
]
CronSortBy = Literal[
    "cron_id", "assistant_id", "thread_id", "next_run_date", "end_time", "created_at", "updated_at"
]
OnRunCompleted = Literal["delete", "keep"]


class CronRunIn(BaseModel):
    """The run each firing starts: the fields of a run request a cron keeps."""

    input: dict[StoredText, GraphInputValue] | None = None
    metadata: Metadata | None = None
    config: Metadata | None = None
    context: Metadata | None = None
    interrupt_before: StoredJson | None = None
    interrupt_after: StoredJson | None = None
    webhook: StoredText | None = None
    stream_mode: StreamModeName | list[StreamModeName] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    durability: Literal["sync", "async", "exit"] | None = None


# What of a cron's request its firings' run requests take, as given.
RUN_FIELDS = frozenset({*CronRunIn.model_fields, "assistant_id", "multitask_strategy"})


class CronCreateIn(CronRunIn):
    assistant_id: StoredText = Field(min_length=1, max_length=GRAPH_ID_CHARS)
    schedule: StoredText = Field(min_length=1, max_length=SCHEDULE_CHARS)
    timezone: StoredText | None = Field(default=None, max_length=TIMEZONE_CHARS)
    end_time: datetime | None = None
    enabled: bool = True
    multitask_strategy: Literal["reject", "enqueue", "interrupt", "rollback"] | None = None
    # A stateless cron's; a thread's cron has none.
    on_run_completed: OnRunCompleted | None = None


class CronPatchIn(CronRunIn):
    schedule: StoredText | None = Field(default=None, min_length=1, max_length=SCHEDULE_CHARS)
    timezone: StoredText | None = Field(default=None, max_length=TIMEZONE_CHARS)
    # Given as null: the cron no longer ends; not given: as it was.
    end_time: datetime | None = None
    enabled: bool | None = None
    on_run_completed: OnRunCompleted | None = None


class CronCountIn(BaseModel):
    assistant_id: StoredText | None = Field(default=None, max_length=GRAPH_ID_CHARS)
    thread_id: StoredText | None = Field(default=None, max_length=64)
    metadata: Metadata | None = None


class CronSearchIn(CronCountIn):
    enabled: bool | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    sort_by: CronSortBy = "created_at"
    sort_order: SortOrder = "desc"
    select: list[CronField] | None = Field(default=None, max_length=len(get_args(CronField)))


class CronOut(BaseModel):
    """A cron; a search with `select` gives only the fields it names."""

    cron_id: str | None = None
    assistant_id: str | None = None
    thread_id: str | None = None
    on_run_completed: OnRunCompleted | None = None
    end_time: datetime | None = None
    schedule: str | None = None
    timezone: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    user_id: str | None = None
    payload: dict[str, Any] | None = None
    next_run_date: datetime | None = None
    metadata: dict[str, Any] | None = None
    enabled: bool | None = None
