"""What a search or a count of assistants asks for."""

from dataclasses import dataclass
from typing import Any, Literal

SortBy = Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"]


@dataclass(frozen=True)
class AssistantFilter:
    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    # A case-insensitive part of the name.
    name: str | None = None
