"""The agent's state keeps a window of the latest messages, through the durable
saver, across DeltaChannel snapshots and a restart; the history keeps them all."""

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from fastapi import FastAPI

from app.agents.chat_graph import SNAPSHOT_EVERY, ChatAgent
from app.agents.local_model import LocalChatModel
from app.config import get_settings
from app.services.persistence import MessageCheckpointer
from tests.conftest import Owner
from tests.graphs import reply_to
from tests.http_client import AppFactory, Caller

TURNS = SNAPSHOT_EVERY  # two updates of the messages a turn: past a snapshot


def _turn(i: int, seen: int) -> list[str]:
    return [f"q{i}", f"Reply {seen}: you said “q{i}”."]


async def test_the_state_keeps_the_latest_messages(
    checkpointer: MessageCheckpointer, make_conversation: Owner
) -> None:
    _, conversation = await make_conversation()
    thread = conversation.thread_id
    agent = ChatAgent(LocalChatModel(), await checkpointer.get_saver(), context_messages=6)
    for i in range(TURNS):
        reply = await reply_to(agent.graph, thread, f"q{i}")
    # The model saw its three latest user messages, the last one included.
    assert reply.text == _turn(TURNS - 1, 3)[1]
    state = await agent.state_at(thread, reply.checkpoint_id)
    assert state is not None
    expected = [text for i in range(TURNS - 3, TURNS) for text in _turn(i, min(i + 1, 3))]
    assert [m.text for m in state["messages"]] == expected

    restarted = ChatAgent(LocalChatModel(), await checkpointer.get_saver(), context_messages=6)
    reply = await reply_to(restarted.graph, thread, "again")
    state = await restarted.state_at(thread, reply.checkpoint_id)
    assert state is not None
    assert [m.text for m in state["messages"]][-2:] == ["again", "Reply 3: you said “again”."]
    assert len(state["messages"]) == 6


async def test_zero_keeps_the_whole_conversation(
    checkpointer: MessageCheckpointer, make_conversation: Owner
) -> None:
    _, conversation = await make_conversation()
    agent = ChatAgent(LocalChatModel(), await checkpointer.get_saver(), context_messages=0)
    for i in range(TURNS):
        reply = await reply_to(agent.graph, conversation.thread_id, f"q{i}")
    assert reply.text == _turn(TURNS - 1, TURNS)[1]
    state = await agent.state_at(conversation.thread_id, reply.checkpoint_id)
    assert state is not None
    assert len(state["messages"]) == 2 * TURNS


@pytest.fixture
async def app(app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FastAPI]:
    """The app with CHAT_CONTEXT_MESSAGES=4."""
    monkeypatch.setenv("CHAT_CONTEXT_MESSAGES", "4")
    get_settings.cache_clear()
    try:
        yield await app_factory()
    finally:
        get_settings.cache_clear()


async def test_the_api_serves_every_message_and_the_window_as_state(
    make_caller: Callable[[], Awaitable[Caller]],
) -> None:
    alice = await make_caller()
    conversation = await alice.conversation()
    for i in range(5):
        reply = (await alice.send(conversation, f"q{i}")).json()
    assert reply["assistant_message"]["content"] == "Reply 2: you said “q4”."
    url = f"/api/v1/conversations/{conversation}"
    history = (await alice.client.get(f"{url}/messages", params={"limit": 50})).json()
    assert [m["content"] for m in history["items"]][0::2] == [f"q{i}" for i in range(5)]
    checkpoint = reply["assistant_message"]["checkpoint_id"]
    state = (await alice.client.get(f"{url}/checkpoints/{checkpoint}")).json()
    assert [m["content"] for m in state["messages"]] == [
        "q3",
        "Reply 2: you said “q3”.",
        "q4",
        "Reply 2: you said “q4”.",
    ]
