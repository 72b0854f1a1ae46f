"""A conversation's counters (`message_count`, `last_message_preview`) stay
what its messages say across every write of them: each write moves them in
its own statement, and a recount from the table is the oracle."""

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.content import label_of
from app.models import PREVIEW_CHARS, Conversation, Message, ThreadRun
from app.services.conversations.repository import ConversationRepository
from app.services.messages.repository import MessageRepository
from app.services.persistence import ConversationStorage
from app.services.runs.repository import RunRepository
from tests.factories import add_conversation

PNG = {"type": "image", "mimeType": "image/png", "data": "iVBORw0KGgo=", "metadata": {"name": "cat.png"}}


async def _stored_counters(session: AsyncSession, conversation_id: uuid.UUID) -> tuple[int, str | None]:
    """The counters as the table holds them (not the session's copy)."""
    row = (
        await session.execute(
            select(Conversation.message_count, Conversation.last_message_preview).where(
                Conversation.id == conversation_id
            )
        )
    ).one()
    return row.message_count, row.last_message_preview


async def _recounted(session: AsyncSession, conversation_id: uuid.UUID) -> tuple[int, str | None]:
    """What the counters must be: the complete messages, and the latest one's label."""
    complete = (Message.conversation_id == conversation_id, Message.status == "complete")
    count = await session.scalar(select(func.count()).select_from(Message).where(*complete))
    latest = await session.scalar(select(Message).where(*complete).order_by(Message.id.desc()).limit(1))
    return int(count or 0), label_of(latest.body)[:PREVIEW_CHARS] if latest is not None else None


async def _assert_counted(
    session: AsyncSession, conversation_id: uuid.UUID, expected: tuple[int, Any]
) -> None:
    assert await _stored_counters(session, conversation_id) == expected
    assert await _recounted(session, conversation_id) == expected


async def _run(session: AsyncSession, conversation: Conversation) -> ThreadRun:
    run = ThreadRun(conversation_id=conversation.id, user_id=conversation.user_id, prompt="q")
    await RunRepository(session).add(run)
    return run


def _said(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


class TestInsert:
    async def test_messages_saved_count_and_the_last_is_the_preview(self, session: AsyncSession) -> None:
        _, conversation = await add_conversation(session)
        storage = ConversationStorage(session)
        await storage.save_messages(conversation.id, [_said("one"), _said("two")], "cp-1")
        await storage.save_message(conversation.id, {"role": "assistant", "content": "x" * 500}, "cp-2")
        await _assert_counted(session, conversation.id, (3, "x" * PREVIEW_CHARS))

    async def test_a_write_moves_the_counters_and_nothing_else_of_the_conversation(
        self, session: AsyncSession
    ) -> None:
        _, conversation = await add_conversation(session)
        conversation.metadata_ = {"kept": True}
        conversation.title = "kept"
        await session.flush()
        run = await _run(session, conversation)
        storage = ConversationStorage(session)
        said = {"role": "user", "content": "hi", "metadata": {"from": "a test"}}
        _, reply = await storage.open_turn(conversation.id, [said], run_id=run.run_id)
        await storage.finish_reply(reply.id, "hello", "cp-1")
        row = (
            await session.execute(
                select(Conversation.metadata_, Conversation.title).where(Conversation.id == conversation.id)
            )
        ).one()
        assert (row.metadata_, row.title) == ({"kept": True}, "kept")

    async def test_a_reply_counts_only_once_finished(self, session: AsyncSession) -> None:
        _, conversation = await add_conversation(session)
        run = await _run(session, conversation)
        storage = ConversationStorage(session)
        _, reply = await storage.open_turn(conversation.id, [_said("question")], run_id=run.run_id)
        await storage.stream_reply(reply.id, "half an ans")
        await _assert_counted(session, conversation.id, (1, "question"))
        await storage.finish_reply(reply.id, "the whole answer", "cp-1")
        await _assert_counted(session, conversation.id, (2, "the whole answer"))
        # Finished twice (a retry): counted once.
        await storage.finish_reply(reply.id, "the whole answer", "cp-1")
        await _assert_counted(session, conversation.id, (2, "the whole answer"))

    async def test_a_reply_discarded_while_streaming_moves_no_counter(self, session: AsyncSession) -> None:
        _, conversation = await add_conversation(session)
        run = await _run(session, conversation)
        storage = ConversationStorage(session)
        _, reply = await storage.open_turn(conversation.id, [_said("question")], run_id=run.run_id)
        before = await session.scalar(
            select(Conversation.updated_at).where(Conversation.id == conversation.id)
        )
        await storage.discard_reply(reply.id)
        await _assert_counted(session, conversation.id, (1, "question"))
        after = await session.scalar(
            select(Conversation.updated_at).where(Conversation.id == conversation.id)
        )
        assert after == before

    @pytest.mark.parametrize(
        ("content", "label"),
        [
            ([PNG], "cat.png"),
            ([{"type": "text", "text": "look"}, PNG], "look"),
            (
                [" ", {"type": "file", "mimeType": "application/pdf", "data": "JVBER", "filename": "a.pdf"}],
                "a.pdf",
            ),
            ([{"type": "image", "url": "https://example.com/x.png", "metadata": {"name": "  "}}], "image"),
            ([PNG, {"type": "audio", "data": "AAAA", "extras": {"filename": "hi.wav"}}], "cat.png, hi.wav"),
        ],
    )
    async def test_the_preview_of_content_blocks_is_their_label(
        self, session: AsyncSession, content: list[Any], label: str
    ) -> None:
        assert label_of(content) == label
        _, conversation = await add_conversation(session)
        await ConversationStorage(session).save_message(conversation.id, {"role": "user", "content": content})
        await _assert_counted(session, conversation.id, (1, label))


class TestDelete:
    async def test_deleting_a_runs_messages_uncounts_them(self, session: AsyncSession) -> None:
        _, conversation = await add_conversation(session)
        storage = ConversationStorage(session)
        await storage.save_message(conversation.id, {"role": "user", "content": [PNG]}, "cp-1")
        run = await _run(session, conversation)
        _, reply = await storage.open_turn(conversation.id, [_said("again")], run_id=run.run_id)
        await storage.finish_reply(reply.id, "an answer", "cp-2")
        await _assert_counted(session, conversation.id, (3, "an answer"))
        await RunRepository(session).delete_run(run.run_id)
        # The preview goes back to the latest message left, an attachment's name.
        await _assert_counted(session, conversation.id, (1, "cat.png"))
        assert await session.get(ThreadRun, run.run_id) is None

    async def test_rewinding_uncounts_the_messages_after_the_checkpoint(self, session: AsyncSession) -> None:
        _, conversation = await add_conversation(session)
        storage = ConversationStorage(session)
        for step in ("cp-1", "cp-2", "cp-3"):
            await storage.save_messages(conversation.id, [_said(f"{step} a"), _said(f"{step} b")], step)
        await MessageRepository(session).rewind(conversation.id, "cp-2")
        await _assert_counted(session, conversation.id, (4, "cp-2 b"))
        await MessageRepository(session).rewind(conversation.id, "")
        await _assert_counted(session, conversation.id, (0, None))

    async def test_a_loaded_conversation_takes_the_new_counters(self, session: AsyncSession) -> None:
        _, conversation = await add_conversation(session)
        storage = ConversationStorage(session)
        await storage.save_messages(conversation.id, [_said("kept"), _said("gone")], "cp-1")
        await storage.save_message(conversation.id, _said("gone too"), "cp-2")
        await MessageRepository(session).rewind(conversation.id, "cp-1")
        # No refresh: the session's copy was given what the statement stored.
        assert (conversation.message_count, conversation.last_message_preview) == (2, "gone")

    async def test_deleting_a_conversation_leaves_its_forks_counters(self, session: AsyncSession) -> None:
        user, source = await add_conversation(session)
        fork = Conversation(user_id=user.id, forked_from_id=source.id)
        session.add(fork)
        await session.flush()
        storage = ConversationStorage(session)
        await storage.save_messages(source.id, [_said("one"), _said("two")], "cp-1")
        await MessageRepository(session).copy(source.id, fork.id, None, {})
        assert await ConversationRepository(session, user.id).delete(source.id)
        assert await session.scalar(select(func.count()).where(Message.conversation_id == source.id)) == 0
        await _assert_counted(session, fork.id, (2, "two"))

    async def test_another_users_conversation_keeps_its_messages(self, session: AsyncSession) -> None:
        _, conversation = await add_conversation(session)
        stranger, _ = await add_conversation(session)
        await ConversationStorage(session).save_message(conversation.id, _said("mine"))
        assert not await ConversationRepository(session, stranger.id).delete(conversation.id)
        await _assert_counted(session, conversation.id, (1, "mine"))


class TestForkCopy:
    async def test_the_copy_counts_what_it_copied_up_to_the_checkpoint(self, session: AsyncSession) -> None:
        user, source = await add_conversation(session)
        storage = ConversationStorage(session)
        await storage.save_messages(source.id, [_said("one"), _said("two")], "cp-1")
        await storage.save_message(source.id, _said("three"), "cp-2")
        run = await _run(session, source)
        # A reply still streaming belongs to its run, not to the fork.
        await storage.open_turn(source.id, [], run_id=run.run_id)
        fork = Conversation(user_id=user.id, forked_from_id=source.id)
        session.add(fork)
        await session.flush()
        messages = MessageRepository(session)
        assert await messages.copy(source.id, fork.id, "cp-1", {}) == 2
        await _assert_counted(session, fork.id, (2, "two"))
        await _assert_counted(session, source.id, (3, "three"))
        assert await messages.copy(source.id, fork.id, None, {}) == 3
        await _assert_counted(session, fork.id, (5, "three"))
