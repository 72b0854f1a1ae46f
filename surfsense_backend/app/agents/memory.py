"""The chat agent's long-term memory: facts a person asks it to remember,
kept in their store, and the few that bear on each message recalled.

A fact is stored under `("memories",)` when a message opens with "remember
(that) ...", "don't forget (that) ...", "keep in mind (that) ..." (after a
"please" or "can you", as people write it); a question about what it
remembers ("remember what I said?") stores nothing. Recall is the store's
search with the message as its query: by meaning where the database has
pgvector, else the newest memories. Both are a turn's extras: a store that
fails is logged and the turn goes on without them.
"""

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.store.base import BaseStore

logger = logging.getLogger(__name__)

MEMORIES = ("memories",)
# How many memories a turn recalls: a few, so the prompt stays small.
RECALLED = 3
# How the prompt tells the model what it recalled and what it has just stored.
RECALLED_PREFIX = "What you remember about the user:"
REMEMBERED_PREFIX = "You have just saved to your memory, as the user asked:"

_REMEMBER = re.compile(
    r"^(?:(?:please|hey|ok|okay|can you|could you|would you|will you)[\s,]+)*"
    r"(?:remember|don'?t forget|do not forget|keep in mind)(?:\s+that)?[\s:,]+"
    r"(?P<fact>.+?)[\s.!?]*$",
    re.I | re.S,
)
# "Remember what I said?" asks about a memory; it is not one.
_QUESTION = re.compile(r"^(?:what|which|who|whom|whose|when|where|why|how|if|whether)\b", re.I)
# "Remember this" points at something else: a word like that is no fact.
_POINTER = re.compile(r"^(?:this|that|it|these|those|me)$", re.I)


@dataclass(frozen=True)
class Memory:
    """What a turn recalled and what it stored."""

    recalled: list[str] = field(default_factory=list)
    remembered: list[str] = field(default_factory=list)

    def prompt(self) -> list[SystemMessage]:
        """The system messages that tell the model (they are not kept in the state)."""
        said = []
        if self.recalled:
            said.append(SystemMessage("\n- ".join([RECALLED_PREFIX, *self.recalled])))
        if self.remembered:
            said.append(SystemMessage("\n- ".join([REMEMBERED_PREFIX, *self.remembered])))
        return said

    def metadata(self) -> dict[str, list[str]]:
        """What the reply's metadata shows of it."""
        return {"recalled": self.recalled, "remembered": self.remembered}


def fact_to_remember(text: str) -> str | None:
    """The fact a message asks to be remembered, or None."""
    found = _REMEMBER.match(text.strip())
    if found is None or _QUESTION.match(found["fact"]) or _POINTER.match(found["fact"]):
        return None
    return found["fact"]


def memory_text(value: dict[str, Any]) -> str:
    """A stored memory as the prompt shows it: its `text`, else its value as JSON
    (a client may store any value under the namespace)."""
    text = value.get("text")
    return text if isinstance(text, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _key(fact: str) -> str:
    """The same fact told twice is one memory, updated."""
    return hashlib.sha256(" ".join(fact.lower().split()).encode()).hexdigest()[:32]


async def recall_and_remember(store: BaseStore | None, messages: Sequence[BaseMessage]) -> Memory | None:
    """Recall the memories closest to the latest user message, then store the
    fact it asks to be remembered (after, so it is not recalled to itself).
    None without a store; a store that fails is logged, and what was done kept."""
    if store is None:
        return None
    asked = next((m.text for m in reversed(messages) if isinstance(m, HumanMessage)), "")
    recalled: list[str] = []
    remembered: list[str] = []
    try:
        found = await store.asearch(MEMORIES, query=asked or None, limit=RECALLED)
        recalled = [memory_text(item.value) for item in found]
        fact = fact_to_remember(asked)
        if fact is not None:
            await store.aput(MEMORIES, _key(fact), {"text": fact}, index=["text"])
            remembered = [fact]
    except Exception as exc:
        # Memory is an extra: the turn goes on. The type only: a driver's message may quote the conversation.
        logger.warning("the chat agent's memory failed (%s); the turn goes on without it", type(exc).__name__)
    return Memory(recalled, remembered)
