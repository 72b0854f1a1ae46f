"""ConversationStorage: messages, history pages and agent state."""

import asyncio
import uuid

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import PersistenceConfig
from app.models import Conversation, Message
from app.services.persistence import (
    CheckpointNotFound,
    ConversationNotFound,
    ConversationStorage,
    InvalidMessage,
    InvalidRequest,
    MessageCheckpointer,
    MessageTooLarge,
)
from tests.conftest import Owner
from tests.factories import add_conversation
from tests.graphs import chat, echo_graph


async def _conversation(session: AsyncSession) -> Conversation:
    _, conversation = await add_conversation(session)
    return conversation


class TestSaveMessage:
    async def test_accepts_langchain_messages_and_plain_mappings(self, session: AsyncSession) -> None:
        conversation = await _conversation(session)
        storage = ConversationStorage(session)
        human = await storage.save_message(conversation.id, HumanMessage(content="hi", id="lc-1"), "cp-1")
        ai = await storage.save_message(conversation.id, AIMessage(content="hello"))
        tool = await storage.save_message(
            conversation.id, {"role": "tool", "content": "42", "metadata": {"tool": "calc"}}
        )
        assert [(m.role, m.content) for m in (human, ai, tool)] == [
            ("user", "hi"),
            ("assistant", "hello"),
            ("tool", "42"),
        ]
        assert human.metadata_ == {"lc_id": "lc-1"}
        assert human.checkpoint_id == "cp-1"
        assert tool.metadata_ == {"tool": "calc"}
        assert human.id < ai.id < tool.id

    async def test_marks_the_conversation_active(
        self, make_conversation: Owner, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        # now() is the transaction's start, so the message goes in a later one.
        _, conversation = await make_conversation()
        async with committed() as s:
            await ConversationStorage(s).save_message(conversation.id, {"role": "user", "content": "x"})
            await s.commit()
            updated = await s.scalar(
                select(Conversation.updated_at).where(Conversation.id == conversation.id)
            )
        assert updated is not None
        assert updated > conversation.updated_at

    async def test_keeps_count_and_preview(self, session: AsyncSession) -> None:
        conversation = await _conversation(session)
        storage = ConversationStorage(session)
        await storage.save_message(conversation.id, {"role": "user", "content": "first"})
        await storage.save_message(conversation.id, {"role": "assistant", "content": "y" * 500})
        await session.refresh(conversation)
        assert conversation.message_count == 2
        assert conversation.last_message_preview == "y" * 200

    @pytest.mark.parametrize(
        "message",
        [
            {"role": "user", "content": ""},
            {"role": "user", "content": "   \n"},
            {"role": "user", "content": "nul \x00 byte"},
            {"role": "wizard", "content": "abracadabra"},
            {"role": "user", "content": 42},
            {"role": "user"},
        ],
    )
    async def test_refuses_garbage(self, session: AsyncSession, message: dict[str, object]) -> None:
        conversation = await _conversation(session)
        with pytest.raises(InvalidMessage):
            await ConversationStorage(session).save_message(conversation.id, message)
        assert await session.scalar(select(Message).where(Message.conversation_id == conversation.id)) is None

    async def test_refuses_oversize_content(self, session: AsyncSession) -> None:
        conversation = await _conversation(session)
        storage = ConversationStorage(session, config=PersistenceConfig(max_message_chars=10))
        await storage.save_message(conversation.id, {"role": "user", "content": "x" * 10})
        with pytest.raises(MessageTooLarge, match="11 characters; the limit is 10"):
            await storage.save_message(conversation.id, {"role": "user", "content": "x" * 11})

    async def test_unknown_conversation(self, session: AsyncSession) -> None:
        with pytest.raises(ConversationNotFound):
            await ConversationStorage(session).save_message(uuid.uuid4(), {"role": "user", "content": "hi"})

    async def test_another_users_conversation_looks_missing(self, session: AsyncSession) -> None:
        conversation = await _conversation(session)
        stranger = ConversationStorage(session, owner_id=uuid.uuid4())
        with pytest.raises(ConversationNotFound):
            await stranger.save_message(conversation.id, {"role": "user", "content": "hi"})
        with pytest.raises(ConversationNotFound):
            await stranger.get_conversation_history(conversation.id)
        owner = ConversationStorage(session, owner_id=conversation.user_id)
        assert (
            await owner.save_message(conversation.id, {"role": "user", "content": "mine"})
        ).content == "mine"


class TestSaveMessages:
    async def test_many_in_order_in_one_go(self, session: AsyncSession) -> None:
        conversation = await _conversation(session)
        storage = ConversationStorage(session)
        batch = [{"role": "user" if i % 2 else "assistant", "content": f"m{i}"} for i in range(500)]
        stored = await storage.save_messages(conversation.id, batch, "cp-9")
        assert [m.content for m in stored] == [f"m{i}" for i in range(500)]
        assert [m.id for m in stored] == sorted(m.id for m in stored)
        assert {m.checkpoint_id for m in stored} == {"cp-9"}
        page = await storage.get_conversation_history(conversation.id, limit=200)
        assert [m.content for m in page.items] == [f"m{i}" for i in range(300, 500)]
        await session.refresh(conversation)
        assert (conversation.message_count, conversation.last_message_preview) == (500, "m499")

    async def test_one_bad_message_stores_none(self, session: AsyncSession) -> None:
        conversation = await _conversation(session)
        storage = ConversationStorage(session)
        batch = [{"role": "user", "content": "fine"}, {"role": "user", "content": "   "}]
        with pytest.raises(InvalidMessage):
            await storage.save_messages(conversation.id, batch)
        assert (await storage.get_conversation_history(conversation.id)).items == []

    async def test_nothing_to_save(self, session: AsyncSession) -> None:
        conversation = await _conversation(session)
        assert await ConversationStorage(session).save_messages(conversation.id, []) == []


class TestHistory:
    async def test_pages_back_in_order(self, session: AsyncSession) -> None:
        conversation = await _conversation(session)
        storage = ConversationStorage(session)
        for i in range(7):
            await storage.save_message(conversation.id, {"role": "user", "content": f"m{i}"})

        newest = await storage.get_conversation_history(conversation.id, limit=3)
        assert [m.content for m in newest.items] == ["m4", "m5", "m6"]
        middle = await storage.get_conversation_history(conversation.id, limit=3, before=newest.next_before)
        assert [m.content for m in middle.items] == ["m1", "m2", "m3"]
        oldest = await storage.get_conversation_history(conversation.id, limit=3, before=middle.next_before)
        assert [m.content for m in oldest.items] == ["m0"]
        assert oldest.next_before is None

    async def test_an_exact_last_page_has_no_next(self, session: AsyncSession) -> None:
        conversation = await _conversation(session)
        storage = ConversationStorage(session)
        for i in range(3):
            await storage.save_message(conversation.id, {"role": "user", "content": f"m{i}"})
        page = await storage.get_conversation_history(conversation.id, limit=3)
        assert (len(page.items), page.next_before) == (3, None)

    async def test_empty_conversation_is_an_empty_page(self, session: AsyncSession) -> None:
        conversation = await _conversation(session)
        page = await ConversationStorage(session).get_conversation_history(conversation.id)
        assert (page.items, page.next_before) == ([], None)

    @pytest.mark.parametrize("limit", [0, -1, 201])
    async def test_refuses_bad_limits(self, session: AsyncSession, limit: int) -> None:
        conversation = await _conversation(session)
        with pytest.raises(InvalidRequest):
            await ConversationStorage(session).get_conversation_history(conversation.id, limit=limit)

    async def test_no_gaps_or_repeats_while_messages_are_added(
        self, make_conversation: Owner, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        _, conversation = await make_conversation()
        async with committed() as s:
            storage = ConversationStorage(s)
            for i in range(100):
                await storage.save_message(conversation.id, {"role": "user", "content": f"old {i}"})
            await s.commit()

        stop = asyncio.Event()

        async def writer() -> int:
            written = 0
            while not stop.is_set():
                async with committed() as s:
                    await ConversationStorage(s).save_message(
                        conversation.id, {"role": "assistant", "content": f"new {written}"}
                    )
                    await s.commit()
                written += 1
                await asyncio.sleep(0)
            return written

        writing = asyncio.create_task(writer())
        seen: list[Message] = []
        async with committed() as s:
            storage = ConversationStorage(s)
            page = await storage.get_conversation_history(conversation.id, limit=7)
            first_page_newest = page.items[-1].id
            seen = list(page.items)
            while page.next_before is not None:
                page = await storage.get_conversation_history(
                    conversation.id, limit=7, before=page.next_before
                )
                seen = page.items + seen
                await asyncio.sleep(0)
        stop.set()
        assert await writing > 0

        async with committed() as s:
            expected = list(
                await s.scalars(
                    select(Message.id)
                    .where(Message.conversation_id == conversation.id, Message.id <= first_page_newest)
                    .order_by(Message.id)
                )
            )
        assert [m.id for m in seen] == expected


class TestAgentState:
    async def test_save_and_restore_through_the_shared_saver(
        self,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, conversation = await make_conversation()
        saver = await checkpointer.get_saver()
        async with committed() as s:
            storage = ConversationStorage(s, saver=saver)
            first = await storage.save_agent_state(conversation.id, {"mood": "curious", "notes": ["a"]})
            second = await storage.save_agent_state(conversation.id, {"notes": ["a", "b"]})
            assert await storage.restore_agent_state(conversation.id) == {
                "mood": "curious",
                "notes": ["a", "b"],
            }
            assert await storage.restore_agent_state(conversation.id, first) == {
                "mood": "curious",
                "notes": ["a"],
            }
            assert second > first

    async def test_state_survives_a_new_checkpointer(
        self,
        database_url: str,
        persistence_config: PersistenceConfig,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, conversation = await make_conversation()
        first = MessageCheckpointer(database_url, persistence_config)
        async with committed() as s:
            await ConversationStorage(s, saver=await first.get_saver()).save_agent_state(
                conversation.id, {"plan": ["research", "write"]}
            )
        await first.cleanup()
        second = MessageCheckpointer(database_url, persistence_config)
        try:
            async with committed() as s:
                restored = await ConversationStorage(s, saver=await second.get_saver()).restore_agent_state(
                    conversation.id
                )
        finally:
            await second.cleanup()
        assert restored == {"plan": ["research", "write"]}

    async def test_a_graph_resumes_from_saved_state(
        self,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, conversation = await make_conversation()
        saver = await checkpointer.get_saver()
        async with committed() as s:
            await ConversationStorage(s, saver=saver).save_agent_state(
                conversation.id, {"messages": [HumanMessage(content="seeded", id="seed")]}
            )
        messages = await chat(echo_graph(saver), conversation.thread_id, "and now")
        assert messages == ["seeded", "and now", "echo: and now"]

    async def test_missing_state_and_checkpoints(
        self,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, conversation = await make_conversation()
        async with committed() as s:
            storage = ConversationStorage(s, saver=await checkpointer.get_saver())
            with pytest.raises(CheckpointNotFound):
                await storage.restore_agent_state(conversation.id)
            with pytest.raises(CheckpointNotFound):
                await storage.save_agent_state(conversation.id, {"x": 1}, checkpoint_id="no-such-checkpoint")
            with pytest.raises(ConversationNotFound):
                await storage.restore_agent_state(uuid.uuid4())
