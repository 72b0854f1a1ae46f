"""The chat agent remembers what a person asks it to, in their store, and
recalls it in their other conversations, never in anyone else's."""

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.agents.local_model import LocalChatModel
from app.agents.memory import fact_to_remember
from app.config import get_settings
from tests.http_client import Caller, CallerOn


async def _reply(caller: Caller, conversation: str, content: str) -> dict[str, object]:
    response = await caller.send(conversation, content)
    assert response.status_code == 200, response.text
    reply: dict[str, object] = response.json()["assistant_message"]
    return reply


@pytest.mark.parametrize(
    ("said", "fact"),
    [
        ("remember that my favourite colour is teal", "my favourite colour is teal"),
        ("Please remember: I am allergic to peanuts.", "I am allergic to peanuts"),
        ("Can you remember I live in Lyon?", "I live in Lyon"),
        ("don't forget that my sister is called Ana", "my sister is called Ana"),
        ("Keep in mind that I work nights!", "I work nights"),
        ("do you remember my favourite colour?", None),
        ("remember what I told you about Lyon?", None),
        ("I can't remember that film's name", None),
        ("what colour do I like?", None),
        ("remember this", None),
        ("Please remember that!", None),
    ],
)
def test_a_fact_is_what_follows_remember_at_the_start(said: str, fact: str | None) -> None:
    assert fact_to_remember(said) == fact


class TestChatMemory:
    async def test_a_fact_told_in_one_conversation_is_recalled_in_another(self, alice: Caller) -> None:
        first = await alice.conversation()
        told = await _reply(alice, first, "remember that my favourite colour is teal")
        assert told["content"] == (
            "Reply 1: you said “remember that my favourite colour is teal”. "
            "I will remember that my favourite colour is teal."
        )
        assert told["metadata"]["remembered"] == ["my favourite colour is teal"]  # type: ignore[index]
        assert told["metadata"]["recalled"] == []  # type: ignore[index]

        second = await alice.conversation()
        asked = await _reply(alice, second, "what is my favourite colour?")
        assert asked["content"] == (
            "Reply 1: you said “what is my favourite colour?”. I remember: my favourite colour is teal."
        )
        assert asked["metadata"]["recalled"] == ["my favourite colour is teal"]  # type: ignore[index]
        assert asked["metadata"]["remembered"] == []  # type: ignore[index]

        memories = (await alice.client.get("/api/v1/memories")).json()["items"]
        assert [(m["namespace"], m["value"]) for m in memories] == [
            (["memories"], {"text": "my favourite colour is teal"})
        ]
        # Told again, it is the same memory, updated: not a second one.
        await _reply(alice, second, "Please remember that my favourite colour is  TEAL")
        assert len((await alice.client.get("/api/v1/memories")).json()["items"]) == 1

    async def test_recall_is_by_meaning_with_pgvector_else_the_newest_few(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        facts = [
            "my favourite drink is green tea",
            "the car needs new winter tyres",
            "my sister is called Ana",
            "my favourite colour is teal",
        ]
        for fact in facts:
            await _reply(alice, conversation, f"remember that {fact}")
        asked = await _reply(alice, await alice.conversation(), "which beverage do I like?")
        recalled = asked["metadata"]["recalled"]  # type: ignore[index]
        if alice.app.state.store.embeddings is not None:
            assert len(recalled) == 3
            assert recalled[0] == "my favourite drink is green tea"
        else:
            assert recalled == list(reversed(facts))[:3]

    async def test_another_users_memories_are_not_recalled(self, alice: Caller, bob: Caller) -> None:
        await _reply(alice, await alice.conversation(), "remember that my favourite colour is teal")
        asked = await _reply(bob, await bob.conversation(), "what is my favourite colour?")
        assert asked["content"] == "Reply 1: you said “what is my favourite colour?”."
        assert asked["metadata"]["recalled"] == []  # type: ignore[index]

    async def test_a_store_that_fails_leaves_the_turn_answered(
        self, alice: Caller, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
    ) -> None:
        conversation = await alice.conversation()
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE store RENAME TO store_away"))
        try:
            with caplog.at_level(logging.WARNING, logger="app.agents.memory"):
                told = await _reply(alice, conversation, "remember that my favourite colour is teal")
        finally:
            async with engine.begin() as conn:
                await conn.execute(text("ALTER TABLE store_away RENAME TO store"))
        assert told["content"] == "Reply 1: you said “remember that my favourite colour is teal”."
        assert told["metadata"]["remembered"] == []  # type: ignore[index]
        assert "the chat agent's memory failed (UndefinedTable)" in caplog.text
        assert (await alice.client.get("/api/v1/memories")).json()["items"] == []


@pytest.fixture
def memory_off() -> Iterator[None]:
    """CHAT_MEMORY=off for the apps the test starts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHAT_MEMORY", "off")
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


class TestChatMemoryOff:
    async def test_nothing_is_recalled_or_remembered_and_the_store_stays(
        self, memory_off: None, caller_on: CallerOn
    ) -> None:
        carol = await caller_on(LocalChatModel())
        put = await carol.client.put(
            "/langgraph/store/items",
            json={"namespace": ["memories"], "key": "teal", "value": {"text": "my favourite colour is teal"}},
        )
        assert put.status_code == 204, put.text

        told = await _reply(carol, await carol.conversation(), "remember that I live in Lyon")
        asked = await _reply(carol, await carol.conversation(), "what is my favourite colour?")

        assert told["content"] == "Reply 1: you said “remember that I live in Lyon”."
        assert asked["content"] == "Reply 1: you said “what is my favourite colour?”."
        for reply in (told, asked):
            assert "recalled" not in reply["metadata"]  # type: ignore[operator]
            assert "remembered" not in reply["metadata"]  # type: ignore[operator]
        memories = (await carol.client.get("/api/v1/memories")).json()["items"]
        assert [m["value"] for m in memories] == [{"text": "my favourite colour is teal"}]
