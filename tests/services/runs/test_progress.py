"""A streaming reply's progress is stored beside the stream, one write at a time."""

import asyncio

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.models import Message, ThreadRun
from app.services.persistence import ConversationStorage
from app.services.runs.event_log import EventLog
from app.services.runs.progress import ReplyProgress
from tests.conftest import Owner


async def _streaming_reply(make_conversation: Owner, sessions: async_sessionmaker[AsyncSession]) -> Message:
    user, conversation = await make_conversation()
    async with sessions() as s:
        run = ThreadRun(conversation_id=conversation.id, user_id=user.id, prompt="a question")
        s.add(run)
        await s.flush()
        reply = await ConversationStorage(s).begin_reply(conversation.id, run_id=run.run_id)
        await s.commit()
    return reply


def _progress(sessions: async_sessionmaker[AsyncSession], reply: Message) -> ReplyProgress:
    assert reply.run_id is not None
    return ReplyProgress(
        sessions, reply.conversation_id, reply.run_id, reply.id, interval=0.0, log=EventLog()
    )


async def _blocked_updates(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        waiting = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE messages%'"
            )
        )
    return int(waiting or 0)


async def _content(sessions: async_sessionmaker[AsyncSession], message_id: int) -> str:
    async with sessions() as s:
        return str(await s.scalar(select(Message.content).where(Message.id == message_id)))


async def test_a_stalled_write_neither_blocks_tokens_nor_piles_up(
    make_conversation: Owner, committed: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    reply = await _streaming_reply(make_conversation, committed)
    progress = _progress(committed, reply)

    async with engine.connect() as locker:
        # Another transaction holds the row: the first write waits on it.
        await locker.execute(text("SELECT 1 FROM messages WHERE id = :id FOR UPDATE"), {"id": reply.id})
        progress.add("Reply ")
        for _ in range(1000):  # PostgreSQL sends no event: look until the write waits
            if await _blocked_updates(engine):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the progress write never reached PostgreSQL")
        progress.add("1: ")
        progress.add("you said")
        await locker.rollback()
    async with progress.exclusive():
        pass  # the write in flight has ended
    # The tokens went by at once, and started no write while one was in flight:
    # the only write stored the text it started with.
    assert await _content(committed, reply.id) == "Reply "

    # What came meanwhile is stored after it, by the write a timer starts.
    progress.add("…")
    for _ in range(1000):
        if await _content(committed, reply.id) == "Reply 1: you said…":
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the text added during a write was never stored")
    await progress.close()


async def test_a_finished_reply_is_left_alone(
    make_conversation: Owner, committed: async_sessionmaker[AsyncSession]
) -> None:
    reply = await _streaming_reply(make_conversation, committed)
    async with committed() as s:
        await ConversationStorage(s).finish_reply(reply.id, "the whole answer", None)
        await s.commit()
    progress = _progress(committed, reply)
    progress.add("the whole")
    await progress.close()
    assert await _content(committed, reply.id) == "the whole answer"
