"""Which assistant a LangGraph thread belongs to, read on the saver's own pool:
the lookup the agents' registry is given (retention rebuilds a thread's state
with the graph that wrote it)."""

import uuid

from app.agents.registry import AssistantOf
from app.services.persistence import MessageCheckpointer


def assistant_of_threads(checkpointer: MessageCheckpointer) -> AssistantOf:
    """A lookup of a thread's conversation's assistant; None for a thread that
    is no conversation's (the saver used as a library)."""

    async def assistant_of(thread_id: str) -> str | None:
        pool = checkpointer.pool
        try:
            conversation_id = uuid.UUID(thread_id)
        except ValueError:
            return None
        if pool is None:
            return None
        async with pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT assistant_id FROM conversations WHERE id = %s", (conversation_id,)
            )
            row = await cursor.fetchone()
        return None if row is None else str(row["assistant_id"])

    return assistant_of
