"""The history page (W3), the conversation list (W6) and search (W9) are read
by index scans.

The statements EXPLAINed are the ones the code runs, on tables with enough
rows (and fresh statistics) that the planner would rather scan if it could.
"""

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from app.services.conversations.repository import ConversationRepository
from app.services.persistence.storage_adapter import history_statement
from app.services.search.query import parse_query
from app.services.search.repository import SEARCH_SQL, search_params
from tests.factories import add_conversation


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


def _scans(nodes: list[dict[str, Any]]) -> list[tuple[bool, str | None]]:
    """Each scan in the plan: whether it reads an index, and which."""
    return [
        (n["Node Type"].startswith("Index"), n.get("Index Name")) for n in nodes if "Scan" in n["Node Type"]
    ]


async def _plan(session: AsyncSession, statement: Select[Any]) -> list[dict[str, Any]]:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    result = await session.execute(text(f"EXPLAIN (FORMAT JSON) {compiled}"))
    return _nodes(result.scalar_one()[0]["Plan"])


async def _fill(session: AsyncSession) -> tuple[uuid.UUID, uuid.UUID]:
    """5,000 conversations of one user; 40,000 messages spread round-robin over
    50 of them, so any id range holds every conversation's messages, as in life."""
    user, conversation = await add_conversation(session)
    await session.execute(
        text(
            "INSERT INTO conversations (id, user_id)"
            " SELECT gen_random_uuid(), :u FROM generate_series(1, 4999)"
        ),
        {"u": user.id},
    )
    await session.execute(
        text(
            "WITH chosen AS (SELECT array_agg(id) AS ids FROM ("
            "  SELECT id FROM conversations WHERE user_id = :u AND id <> :c LIMIT 49) c)"
            " INSERT INTO messages (conversation_id, role, content)"
            " SELECT CASE WHEN i % 50 = 0 THEN :c ELSE ids[1 + i % 49] END, 'user', 'm' || i"
            " FROM chosen, generate_series(1, 40000) i"
        ),
        {"u": user.id, "c": conversation.id},
    )
    await session.execute(text("ANALYZE messages"))
    await session.execute(text("ANALYZE conversations"))
    return user.id, conversation.id


class TestIndexScans:
    async def test_history_pages_use_the_conversation_index(self, session: AsyncSession) -> None:
        _, conversation_id = await _fill(session)
        newest = await session.scalar(
            text("SELECT max(id) FROM messages WHERE conversation_id = :c"), {"c": conversation_id}
        )
        for before in (None, newest - 30_000):
            nodes = await _plan(session, history_statement(conversation_id, 51, before))
            # Either index yields the page in order; which is cheaper depends on
            # how the conversation's rows lie in the heap, so the planner picks.
            ((is_index, name),) = _scans(nodes)
            assert is_index, nodes
            assert name in {"ix_messages_conversation_id_id", "messages_pkey"}, nodes
            assert not any(n["Node Type"] == "Sort" for n in nodes)

    async def test_the_conversation_list_uses_the_activity_index(self, session: AsyncSession) -> None:
        user_id, _ = await _fill(session)
        repository = ConversationRepository(session, user_id)
        nodes = await _plan(session, repository.page_statement("false", 21, None))
        assert _scans(nodes) == [(True, "ix_conversations_user_id_archived_updated_at")], nodes
        assert not any(n["Node Type"] == "Sort" for n in nodes)

    async def test_a_rare_word_is_searched_through_the_gin_index(self, session: AsyncSession) -> None:
        """A word in few messages is found by the GIN index, not by reading every message."""
        user_id, conversation_id = await _fill(session)
        await session.execute(
            text(
                "INSERT INTO messages (conversation_id, role, content)"
                " SELECT :c, 'assistant', 'the usual words ' || i"
                " || CASE WHEN i % 1000 = 0 THEN ' quetzal' ELSE '' END"
                " FROM generate_series(1, 20000) i"
            ),
            {"c": conversation_id},
        )
        await session.execute(text("ANALYZE messages"))
        for typed in ("quetzal", '"usual quetzal"', "quetz"):
            params = search_params(user_id, parse_query(typed), "false", 21, None, language="simple")
            result = await session.execute(text(f"EXPLAIN (FORMAT JSON) {SEARCH_SQL}"), params)
            nodes = _nodes(result.scalar_one()[0]["Plan"])
            scans = {(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes}
            assert ("Bitmap Index Scan", None, "ix_messages_search_vector") in scans, (typed, nodes)
            assert not any(kind == "Seq Scan" and table == "messages" for kind, table, _ in scans), nodes
