"""Interrupts: as the history keeps them (what the graph asked, waiting for an
answer), and the answers a resume gives them."""

import json
import re
from typing import Any

from pydantic_core import to_jsonable_python

from app.agents.graph_agent import PendingInterrupt
from app.agents.registry import Assistant
from app.services.conversations.errors import InterruptsUnanswered, NoInterruptPending, UnknownInterrupt

# LangGraph's interrupt ids (xxh3-128 hex digests): a dict keyed by them all is
# a resume map, answering each interrupt by id, as LangGraph itself tells them.
_INTERRUPT_ID = re.compile(r"[0-9a-f]{32}")


def jsonable(value: Any) -> Any:
    """A graph's value as JSON (what it cannot say in JSON, as text)."""
    return to_jsonable_python(value, fallback=str)


def _question(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("action_requests"), list):
        # An approval request (LangChain's format): what each action would do.
        actions = [a for a in value["action_requests"] if isinstance(a, dict)]
        said = [a.get("description") or a.get("name") for a in actions]
        words = [s for s in said if isinstance(s, str) and s.strip()]
        if words and len(words) == len(said):
            return "\n".join(words)
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


def is_answer_map(value: Any) -> bool:
    """Whether a resume answers interrupts by id: `{interrupt_id: answer, ...}`."""
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(key, str) and _INTERRUPT_ID.fullmatch(key) for key in value)
    )


def checked_resume(assistant: Assistant, resume: Any) -> Any:
    """A resume as sent, each answer checked against the assistant's schema
    alone (the interrupts it answers are known once its run starts)."""
    if is_answer_map(resume):
        return {key: assistant.check_resume(answer, interrupt_id=key) for key, answer in resume.items()}
    return assistant.check_resume(resume)


def answers_for(assistant: Assistant, resume: Any, pending: list[PendingInterrupt]) -> dict[str, Any]:
    """Each pending interrupt's answer, by id, checked against its question:
    every pending interrupt needs one (a partial answer is refused, so no
    question is left half answered in the history)."""
    if not pending:
        raise NoInterruptPending
    asked = {i.id: i.value for i in pending}
    # A plain answer is the one interrupt's; with several waiting it answers none.
    plain = {pending[0].id: resume} if len(asked) == 1 else {}
    given = dict(resume) if is_answer_map(resume) else plain
    if unknown := sorted(given.keys() - asked.keys()):
        raise UnknownInterrupt(unknown, sorted(asked))
    if missing := [interrupt_id for interrupt_id in asked if interrupt_id not in given]:
        raise InterruptsUnanswered(missing)
    several = len(asked) > 1
    return {
        key: assistant.check_resume(given[key], question, key if several else None)
        for key, question in asked.items()
    }
