"""Request and response bodies of the LangGraph Agent Server API, as
langgraph-sdk and @langchain/langgraph-sdk send and read them."""

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field

from app.db.text import BIGINT_MAX
from app.schemas.json_value import GraphInputValue, StoredJson
from app.schemas.text import StoredText

SortOrder = Literal["asc", "desc"]
ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
ThreadField = Literal[
    "thread_id", "created_at", "updated_at", "metadata", "config", "context", "status", "values", "interrupts"
]
# A JSON object from a client: its keys, like its values, must be storable.
Metadata = dict[StoredText, StoredJson]
# Offsets past this are refused rather than scanned: a client pages with limit and offset.
MAX_OFFSET = 1_000_000


class ThreadCreateIn(BaseModel):
    thread_id: StoredText | None = Field(default=None, max_length=64)
    # `graph_id` (or `assistant_id`) picks the graph the thread runs; the rest is the client's.
    metadata: Metadata | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"


class ThreadPatchIn(BaseModel):
    metadata: Metadata


class ThreadCountIn(BaseModel):
    metadata: Metadata | None = None
    values: Metadata | None = None
    status: ThreadStatus | None = None


class ThreadSearchIn(ThreadCountIn):
    ids: list[StoredText] | None = Field(default=None, max_length=1000)
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    sort_by: Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"] = "created_at"
    sort_order: SortOrder = "desc"
    select: list[ThreadField] | None = None
    # Alias -> path (values.messages[-1].content): each thread's `extracted`.
    extract: dict[StoredText, StoredText] | None = None


class ThreadOut(BaseModel):
    """A thread; a search with `select` gives only the fields it names."""

    thread_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    metadata: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    status: ThreadStatus | None = None
    values: Any = None
    interrupts: dict[str, list[dict[str, Any]]] | None = None
    extracted: dict[str, Any] | None = None


class CheckpointOut(BaseModel):
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str | None
    checkpoint_map: dict[str, Any] | None


class ThreadStateOut(BaseModel):
    values: Any
    next: list[str]
    checkpoint: CheckpointOut | None
    metadata: dict[str, Any]
    created_at: str | None
    parent_checkpoint: CheckpointOut | None
    tasks: list[dict[str, Any]]
    interrupts: list[dict[str, Any]]


class InfoOut(BaseModel):
    version: str
    langgraph_py_version: str
    flags: dict[str, bool]
    metadata: dict[str, Any]


StreamModeName = Literal[
    "values", "updates", "messages", "messages-tuple", "custom", "checkpoints", "tasks", "debug", "events"
]


class CommandIn(BaseModel):
    resume: StoredJson | None = None
    update: StoredJson | None = None
    goto: StoredJson | None = None


class CheckpointIn(BaseModel):
    checkpoint_ns: StoredText = Field(default="", max_length=500)
    checkpoint_id: StoredText | None = Field(default=None, max_length=100)
    checkpoint_map: Metadata | None = None
    thread_id: StoredText | None = Field(default=None, max_length=64)


class RunCreateIn(BaseModel):
    """A run, as `client.runs.create/stream/wait` send it. Fields a client
    sends only to use a feature are refused with 422 where it is not served."""

    assistant_id: StoredText = Field(min_length=1, max_length=64)
    input: dict[StoredText, GraphInputValue] | None = None
    command: CommandIn | None = None
    stream_mode: StreamModeName | list[StreamModeName] = "values"
    stream_modes: list[StreamModeName] | None = None
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    metadata: Metadata | None = None
    config: Metadata | None = None
    context: Metadata | None = None
    checkpoint: CheckpointIn | None = None
    checkpoint_id: StoredText | None = Field(default=None, max_length=100)
    interrupt_before: StoredJson | None = None
    interrupt_after: StoredJson | None = None
    # The Agent Server's defaults, which its clients count on: agent-chat-ui
    # stops a reply by closing the stream and sends the next message with no
    # strategy, so it queues behind the run still finishing.
    multitask_strategy: Literal["reject", "enqueue", "interrupt", "rollback"] = "enqueue"
    if_not_exists: Literal["create", "reject"] = "reject"
    on_disconnect: Literal["cancel", "continue"] = "continue"
    durability: Literal["sync", "async", "exit"] | None = None
    webhook: StoredText | None = None
    after_seconds: int | None = Field(default=None, ge=0, le=BIGINT_MAX)
    # A stateless run's thread: deleted once the run ends, or kept.
    on_completion: Literal["delete", "keep"] = "delete"

    @property
    def named_checkpoint(self) -> str | None:
        """The checkpoint the run names to start from: in `checkpoint`, or as `checkpoint_id`."""
        return (self.checkpoint.checkpoint_id if self.checkpoint else None) or self.checkpoint_id

    @property
    def modes(self) -> list[str]:
        modes = self.stream_modes or self.stream_mode
        return list(dict.fromkeys(modes if isinstance(modes, list) else [modes]))


class RunOut(BaseModel):
    run_id: str
    thread_id: str
    assistant_id: str
    created_at: datetime
    updated_at: datetime
    status: Literal["pending", "running", "error", "success", "timeout", "interrupted"]
    metadata: dict[str, Any]
    multitask_strategy: Literal["reject", "enqueue", "interrupt", "rollback"]
    # `kwargs` on the wire: the name pydantic's generated __init__ keeps for itself.
    run_kwargs: dict[str, Any] = Field(validation_alias=AliasChoices("kwargs"), serialization_alias="kwargs")


class HistoryIn(BaseModel):
    limit: int = Field(default=10, ge=1, le=1000)
    # A checkpoint id, or a checkpoint: the states saved before it.
    before: StoredText | CheckpointIn | None = None
    metadata: Metadata | None = None
    checkpoint: CheckpointIn | None = None


class StateAtIn(BaseModel):
    """`get_state(thread, checkpoint=...)`: the checkpoint given whole."""

    checkpoint: CheckpointIn
    subgraphs: bool = False


class ThreadPruneIn(BaseModel):
    thread_ids: list[StoredText] = Field(min_length=1, max_length=1000)
    strategy: Literal["delete", "keep_latest"] = "delete"


class ThreadPruneOut(BaseModel):
    pruned_count: int


class StateUpdateIn(BaseModel):
    values: Metadata | list[Metadata] | None = None
    as_node: StoredText | None = Field(default=None, max_length=200)
    checkpoint: CheckpointIn | None = None
    checkpoint_id: StoredText | None = Field(default=None, max_length=100)


class StateUpdateOut(BaseModel):
    checkpoint: CheckpointOut
