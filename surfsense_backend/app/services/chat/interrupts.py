"""An interrupt as the history keeps it: what the graph asked, waiting for an answer."""

import json
from typing import Any

from pydantic_core import to_jsonable_python

from app.agents.graph_agent import PendingInterrupt


def jsonable(value: Any) -> Any:
    """A graph's value as JSON (what it cannot say in JSON, as text)."""
    return to_jsonable_python(value, fallback=str)


def _question(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("question"), str) and value["question"].strip():
        return str(value["question"])
    if isinstance(value, str) and value.strip():
        return value
    return json.dumps(value, ensure_ascii=False)


def interrupt_message(interrupt: PendingInterrupt) -> dict[str, Any]:
    """The history's message for an interrupt: its question as text, the whole
    value and `pending` in its metadata until a resume answers it."""
    value = jsonable(interrupt.value)
    return {
        "role": "interrupt",
        "content": _question(value),
        "metadata": {"interrupt_id": interrupt.id, "value": value, "pending": True},
    }
