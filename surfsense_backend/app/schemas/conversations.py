"""Request and response bodies of the conversation API."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, JsonValue, computed_field, model_validator

from app.models import PREVIEW_CHARS
from app.schemas.json_value import StoredJson
from app.schemas.text import StoredText


class _FromOrm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: StoredText | None = Field(default=None, min_length=1, max_length=200)
    # One of GET /api/v1/assistants: a graph, or (a UUID) an assistant the
    # caller made of one; the conversation keeps it.
    # None: `chat`, or the first graph of a langgraph.json without it.
    assistant_id: StoredText | None = Field(default=None, min_length=1, max_length=64)


class ConversationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: StoredText | None = Field(default=None, min_length=1, max_length=200)
    archived: bool | None = None
    # What its next turns run with: one of the caller's assistants of its
    # graph, or the graph's own id (the graph as it is, no assistant kept).
    assistant_id: StoredText | None = Field(default=None, min_length=1, max_length=64)


class ConversationOut(_FromOrm):
    id: uuid.UUID
    title: str | None
    # Set on a fork: the conversation it was forked from (null once that is deleted).
    forked_from: uuid.UUID | None = Field(validation_alias="forked_from_id")
    # The graph that answers in it.
    assistant_id: str
    # The caller's assistant (a configuration of that graph) it runs with;
    # null when it runs the graph as it is, or the assistant was deleted.
    stored_assistant_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    archived: bool
    message_count: int
    last_message_preview: str | None = Field(max_length=PREVIEW_CHARS)


class ConversationPageOut(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None
    total: int


class ForkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checkpoint_id: StoredText | None = Field(default=None, min_length=1, max_length=100)


# A message's content: text, or LangChain's content blocks (each an object
# with a string `type`: text, image, file, ...), kept as sent.
Blocks = list[str | dict[str, JsonValue]]
Content = str | Blocks


class MessageIn(BaseModel):
    """A new message (`content`), or the answer to the interrupt the agent waits at (`resume`)."""

    model_config = ConfigDict(extra="forbid")

    # Emptiness, size and what text can hold are the storage's rules (422 and 413), checked there.
    content: StoredText | Blocks | None = None
    # Any JSON the assistant accepts (its resume schema, if it has one); null is no answer.
    resume: StoredJson = None
    # When a run is already active in the conversation: refuse (409), queue
    # behind it, or cancel it (keeping or removing its work) and go next.
    multitask_strategy: Literal["reject", "enqueue", "interrupt", "rollback"] = "reject"
    # The graph's settings, as on the Agent Server API: `configurable`, `tags`,
    # `recursion_limit`; or its runtime context, checked against its schema.
    config: dict[StoredText, StoredJson] | None = None
    context: dict[StoredText, StoredJson] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "MessageIn":
        if (self.content is None) == (self.resume is None):
            raise ValueError("Send either content (a message) or resume (an answer to an interrupt).")
        return self


class MessageOut(_FromOrm):
    id: int
    role: str
    # As it was sent: text, or content blocks (an image's or a file's data inline).
    content: Content = Field(validation_alias=AliasChoices("body", "content"))
    created_at: datetime
    run_id: uuid.UUID | None
    checkpoint_id: str | None
    # "streaming": a reply whose run is in progress, with its text so far.
    status: Literal["complete", "streaming"]
    # assistant: tool_calls [{id, name, args}]; tool: tool_call_id, name, args,
    # status; interrupt: interrupt_id, value, pending, and answer once resumed.
    metadata: dict[str, Any] = Field(validation_alias=AliasChoices("metadata_", "metadata"))


class MessagePageOut(BaseModel):
    items: list[MessageOut]
    next_before: int | None
    # Set on a page opened around a message (or after one) that has newer ones after it.
    next_after: int | None = None


class ChatReplyOut(BaseModel):
    run_id: uuid.UUID
    status: Literal["succeeded", "interrupted"]
    # None on a run that resumed an interrupt.
    user_message: MessageOut | None
    # The answer; None when the run stopped at an interrupt.
    assistant_message: MessageOut | None
    # What the agent asks, when the run stopped at an interrupt.
    interrupts: list[MessageOut] = []


class RunOut(_FromOrm):
    run_id: uuid.UUID
    conversation_id: uuid.UUID
    prompt: str
    status: Literal["pending", "running", "succeeded", "failed", "interrupted", "cancelled"]
    error_kind: str | None
    error: str | None
    checkpoint_id: str | None
    # An interrupted run: what the graph asks, [{id, value}].
    interrupts: list[dict[str, Any]] | None
    # A run that resumed an interrupt: the answer it was given.
    resume: Any | None
    started_at: datetime
    finished_at: datetime | None
    sentiment: Literal["positive", "negative"] | None
    comment: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_ms(self) -> int | None:
        if self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() * 1000)


class RunListOut(BaseModel):
    items: list[RunOut]


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sentiment: Literal["positive", "negative"] | None
    comment: StoredText | None = Field(default=None, max_length=2000)


class CheckpointOut(BaseModel):
    id: str
    parent_id: str | None
    created_at: datetime
    step: int | None
    source: str | None


class CheckpointPageOut(BaseModel):
    items: list[CheckpointOut]
    next_before: str | None


class StateMessageOut(BaseModel):
    id: str | None
    role: str
    content: Content
    tool_calls: list[dict[str, Any]] = []


class SubgraphStateOut(BaseModel):
    namespace: str
    checkpoint_id: str
    values: dict[str, Any]


class CheckpointStateOut(BaseModel):
    checkpoint_id: str
    messages: list[StateMessageOut]
    values: dict[str, Any]
    # Subgraphs that ran in the step that made this checkpoint: their own state.
    subgraphs: list[SubgraphStateOut] = []


class AssistantOut(BaseModel):
    # A graph's id, or the UUID of an assistant the caller made of one.
    id: str
    name: str
    description: str
    uses_tools: bool
    # The graph it runs: its own id for a graph.
    graph_id: str
    # Whether the caller made it (a configuration of `graph_id`), not a shared graph.
    stored: bool = False


class AssistantListOut(BaseModel):
    items: list[AssistantOut]
