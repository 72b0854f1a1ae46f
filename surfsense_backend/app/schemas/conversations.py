"""Request and response bodies of the conversation API."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from app.models import PREVIEW_CHARS
from app.schemas.text import StoredText


class _FromOrm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: StoredText | None = Field(default=None, min_length=1, max_length=200)


class ConversationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: StoredText | None = Field(default=None, min_length=1, max_length=200)
    archived: bool | None = None


class ConversationOut(_FromOrm):
    id: uuid.UUID
    title: str | None
    # Set on a fork: the conversation it was forked from (null once that is deleted).
    forked_from: uuid.UUID | None = Field(validation_alias="forked_from_id")
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


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Emptiness and size are the storage's rules (422 and 413), checked there.
    content: StoredText


class MessageOut(_FromOrm):
    id: int
    role: str
    content: StoredText
    created_at: datetime
    run_id: uuid.UUID | None
    checkpoint_id: str | None
    # "streaming": a reply whose run is in progress, with its text so far.
    status: Literal["complete", "streaming"]
    metadata: dict[str, Any] = Field(validation_alias="metadata_")


class MessagePageOut(BaseModel):
    items: list[MessageOut]
    next_before: int | None


class ChatReplyOut(BaseModel):
    run_id: uuid.UUID
    user_message: MessageOut
    assistant_message: MessageOut


class RunOut(_FromOrm):
    run_id: uuid.UUID
    conversation_id: uuid.UUID
    prompt: str
    status: Literal["running", "succeeded", "failed"]
    error_kind: str | None
    error: str | None
    checkpoint_id: str | None
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
    content: StoredText


class CheckpointStateOut(BaseModel):
    checkpoint_id: str
    messages: list[StateMessageOut]
    values: dict[str, Any]
