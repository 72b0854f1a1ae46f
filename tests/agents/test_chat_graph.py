"""The chat graph's message channel folds writes exactly as add_messages does."""

import random
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage
from langgraph.graph.message import REMOVE_ALL_MESSAGES, add_messages

from app.agents import chat_graph
from app.agents.chat_graph import _add_message_batches


def _one_by_one(state: list[Any], batches: list[list[Any]]) -> list[Any]:
    for batch in batches:
        state = list(add_messages(state, batch))
    return state


def _random_batches(rng: random.Random, start: int) -> list[list[Any]]:
    """Writes a chat graph makes: new messages, edits, removals, clearing it all."""
    live = [f"m{i}" for i in range(start)]
    batches: list[list[Any]] = []
    for step in range(rng.randint(1, 12)):
        batch: list[Any] = []
        for n in range(rng.randint(1, 3)):
            roll = rng.random()
            if roll < 0.55 or not live:
                new = f"n{step}-{n}"
                kind = HumanMessage if rng.random() < 0.5 else AIMessage
                batch.append(kind(content=f"text of {new}", id=new))
                live.append(new)
            elif roll < 0.75:
                batch.append(AIMessage(content=f"edited at {step}", id=rng.choice(live)))
            elif roll < 0.95:
                gone = rng.choice(live)
                live.remove(gone)
                batch.append(RemoveMessage(id=gone))
            else:
                batch.append(RemoveMessage(id=REMOVE_ALL_MESSAGES))
                live.clear()
        batches.append(batch)
    return batches


@pytest.mark.parametrize("seed", range(300))
def test_folding_writes_at_once_equals_one_by_one(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - seeded test data, not secrets
    start = rng.randint(0, 20)
    history: list[Any] = [HumanMessage(content=f"m{i}", id=f"m{i}") for i in range(start)]
    batches = _random_batches(rng, start)
    try:
        expected = _one_by_one(list(history), batches)
    except ValueError:  # removing an id already gone: both must refuse it
        with pytest.raises(ValueError, match="doesn't exist"):
            _add_message_batches(list(history), batches)
        return
    folded = _add_message_batches(list(history), batches)
    assert [(m.id, m.type, m.content) for m in folded] == [(m.id, m.type, m.content) for m in expected]


def test_a_run_of_appends_indexes_the_history_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counted(left: list[Any], right: list[Any]) -> list[Any]:
        calls.append(len(right))
        return list(add_messages(left, right))

    monkeypatch.setattr(chat_graph, "add_messages", counted)
    history = [HumanMessage(content=str(i), id=str(i)) for i in range(1000)]
    batches = [[AIMessage(content=f"r{i}", id=f"r{i}")] for i in range(50)]
    folded = _add_message_batches(history, batches)
    assert calls == [50]
    assert [m.id for m in folded[-50:]] == [f"r{i}" for i in range(50)]
    assert folded[:1000] == history
