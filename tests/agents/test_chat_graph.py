"""The chat graph's message channel folds writes exactly as add_messages does,
and keeps the same window of the latest messages however writes are batched."""

import random
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from langgraph.graph.message import REMOVE_ALL_MESSAGES, add_messages

from app.agents import chat_graph
from app.agents.chat_graph import MessageWindow, _add_message_batches, latest_window


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


def _texts(messages: list[Any]) -> list[str]:
    return [f"{m.type}:{m.content}" for m in messages]


class TestLatestWindow:
    def test_a_short_conversation_is_kept_whole(self) -> None:
        messages: list[AnyMessage] = [HumanMessage("q1"), AIMessage("a1")]
        assert latest_window(messages, 2) is messages

    def test_keeps_the_latest_messages_from_a_user_turn(self) -> None:
        messages: list[AnyMessage] = [
            HumanMessage("q1"),
            AIMessage("a1"),
            HumanMessage("q2"),
            AIMessage("a2"),
        ]
        assert _texts(latest_window(messages, 3)) == ["human:q2", "ai:a2"]
        assert _texts(latest_window(messages, 2)) == ["human:q2", "ai:a2"]

    def test_never_opens_on_a_tool_result(self) -> None:
        call = AIMessage("", tool_calls=[{"name": "search", "args": {}, "id": "c1"}])
        messages: list[AnyMessage] = [
            HumanMessage("q1"),
            call,
            ToolMessage("found", tool_call_id="c1"),
            AIMessage("a1"),
            HumanMessage("q2"),
            AIMessage("a2"),
        ]
        assert _texts(latest_window(messages, 4)) == ["human:q2", "ai:a2"]
        assert _texts(latest_window(messages, 5)) == ["human:q2", "ai:a2"]
        assert len(latest_window(messages, 6)) == 6

    def test_a_leading_system_message_stays_and_counts(self) -> None:
        messages: list[AnyMessage] = [
            SystemMessage("be brief"),
            HumanMessage("q1"),
            AIMessage("a1"),
            HumanMessage("q2"),
            AIMessage("a2"),
        ]
        assert _texts(latest_window(messages, 3)) == ["system:be brief", "human:q2", "ai:a2"]

    def test_without_a_user_message_the_latest_run_as_is(self) -> None:
        messages: list[AnyMessage] = [AIMessage(f"a{i}") for i in range(5)]
        assert _texts(latest_window(messages, 2)) == ["ai:a3", "ai:a4"]


def _random_conversation(rng: random.Random) -> list[list[AnyMessage]]:
    """Writes of a chat agent: user turns, replies, tool calls, results; some batched."""
    writes: list[list[AnyMessage]] = [[SystemMessage("rules", id="s")]] if rng.random() < 0.3 else []
    for i in range(rng.randint(1, 40)):
        kind = rng.choice([HumanMessage, HumanMessage, AIMessage, AIMessage, ToolMessage])
        message = (
            ToolMessage(f"t{i}", tool_call_id=f"c{i}", id=f"m{i}")
            if kind is ToolMessage
            else kind(f"m{i}", id=f"m{i}")
        )
        if writes and rng.random() < 0.3:
            writes[-1].append(message)
        else:
            writes.append([message])
    return writes


@pytest.mark.parametrize("seed", range(200))
def test_the_window_does_not_depend_on_how_writes_are_batched(seed: int) -> None:
    """DeltaChannel replays a thread's writes in batches of its own choosing."""
    rng = random.Random(seed)  # noqa: S311 - seeded test data, not secrets
    writes = _random_conversation(rng)
    window = MessageWindow(rng.randint(2, 12))
    state: list[AnyMessage] = []
    for write in writes:
        state = window(state, [write])
    cut = rng.randint(0, len(writes))
    replayed = window(window([], writes[:cut]), writes[cut:])
    assert _texts(replayed) == _texts(window([], writes)) == _texts(state)
    assert len(state) <= window.limit
