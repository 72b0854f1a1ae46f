"""A run's admission reads whether its conversation is busy after the lock it
waited for is granted, not from before it waited."""

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.services.runs.repository import RunRepository
from tests.conditions import until, waiting_behind
from tests.conftest import Owner


async def test_a_run_admitted_while_waiting_for_the_lock_is_seen(
    make_conversation: Owner, committed: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    user, conversation = await make_conversation()
    async with engine.connect() as holder:
        # Another admission holds the conversation's lock ...
        await holder.execute(
            text("SELECT 1 FROM conversations WHERE id = :id FOR NO KEY UPDATE"), {"id": conversation.id}
        )
        async with committed() as session:
            locking = asyncio.create_task(RunRepository(session).lock_conversation(conversation.id, user.id))
            await until(lambda: waiting_behind(engine, holder), "the second admission waiting for the lock")
            # ... starts its run and commits, which grants the lock to the waiter.
            await holder.execute(
                text(
                    "INSERT INTO thread_runs (run_id, conversation_id, user_id, prompt, status)"
                    " VALUES (gen_random_uuid(), :c, :u, 'first', 'running')"
                ),
                {"c": conversation.id, "u": user.id},
            )
            await holder.commit()
            found = await locking
            assert found is not None
            assert found[0].id == conversation.id
            assert found[1], "the run committed while the lock was awaited counts"
            await session.rollback()
