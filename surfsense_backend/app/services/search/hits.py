"""What a search finds, as its service hands it to a presenter: a ranked
hit with its snippet, its matches between START and STOP, and a whole
message for the agent's search tool."""

import uuid
from dataclasses import dataclass
from datetime import datetime

# Private-use characters around each match in a snippet: no text a person
# writes holds them, so a presenter can split on them safely.
START, STOP = "\ue000", "\ue001"


@dataclass(frozen=True)
class Hit:
    rank: float
    # The keyset's tie-breaker: a message's id or a conversation's, as text.
    key: str
    conversation_id: uuid.UUID
    title: str | None
    # None for a hit on the conversation's title.
    message_id: int | None
    role: str | None
    created_at: datetime | None
    # The matched text, its matches between START and STOP.
    snippet: str


@dataclass(frozen=True)
class MessageHit:
    conversation_id: uuid.UUID
    title: str | None
    message_id: int
    role: str
    content: str
