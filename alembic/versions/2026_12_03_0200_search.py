"""search: a tsvector on messages (GIN-indexed) and on conversation titles, kept by triggers

Revision ID: 0011_search
Revises: 0010_agent_server
Create Date: 2026-12-03 02:00:00+00:00

Built for a messages table that already holds millions of rows (decision
0013): the columns are added without a rewrite, the triggers index new writes
at once, the rows already there are indexed in short batches, each committed
on its own, and the index is built CONCURRENTLY. Writes go on throughout.
Titles need no index: a search reads the titles of the owner's conversations
only, which the (user_id, ...) index finds.
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_search"
down_revision: str | None = "0010_agent_server"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000

# A message is searchable once it is complete, and only what a person reads:
# the user's and the assistant's words. The trigger's WHEN leaves the rest
# alone: a reply streaming (inserted, then updated every progress interval)
# costs no function call until the update that completes it.
_MESSAGE_VECTOR = """
CREATE FUNCTION messages_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := to_tsvector((SELECT language FROM search_config), NEW.content);
    RETURN NEW;
END $$
"""
_TITLE_VECTOR = """
CREATE FUNCTION conversations_title_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.title_vector := to_tsvector((SELECT language FROM search_config), coalesce(NEW.title, ''));
    RETURN NEW;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "search_config",
        sa.Column("id", sa.Boolean(), server_default=sa.true(), primary_key=True),
        sa.Column("language", postgresql.REGCONFIG(), server_default=sa.text("'simple'"), nullable=False),
        sa.CheckConstraint("id", name=op.f("search_config_one_row_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("search_config_pkey")),
    )
    op.execute("INSERT INTO search_config DEFAULT VALUES")
    op.add_column("messages", sa.Column("search_vector", postgresql.TSVECTOR(), nullable=True))
    op.add_column("conversations", sa.Column("title_vector", postgresql.TSVECTOR(), nullable=True))
    op.execute(_MESSAGE_VECTOR)
    op.execute(_TITLE_VECTOR)
    op.execute(
        "CREATE TRIGGER messages_search_vector BEFORE INSERT OR UPDATE OF content, status, role "
        "ON messages FOR EACH ROW WHEN (NEW.status = 'complete' AND NEW.role IN ('user', 'assistant')) "
        "EXECUTE FUNCTION messages_search_vector()"
    )
    # Word frequencies vary by orders of magnitude: a longer list of the most
    # common ones lets the planner tell a word in 2% of messages (read the
    # owner's conversations) from one in 0.01% (read the GIN index).
    op.execute("ALTER TABLE messages ALTER COLUMN search_vector SET STATISTICS 1000")
    op.execute(
        "CREATE TRIGGER conversations_title_vector BEFORE INSERT OR UPDATE OF title "
        "ON conversations FOR EACH ROW EXECUTE FUNCTION conversations_title_vector()"
    )
    with op.get_context().autocommit_block():
        _backfill(_message_batch(), after=0)
        _backfill(_title_batch(), after=uuid.UUID(int=0))
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_messages_search_vector "
            "ON messages USING gin (search_vector)"
        )


def _message_batch() -> str:
    return """
        UPDATE messages SET search_vector = to_tsvector((SELECT language FROM search_config), content)
        WHERE id IN (
            SELECT id FROM messages
            WHERE id > :after AND search_vector IS NULL
              AND status = 'complete' AND role IN ('user', 'assistant')
            ORDER BY id LIMIT :batch
        )
        RETURNING id
    """


def _title_batch() -> str:
    return """
        UPDATE conversations
        SET title_vector = to_tsvector((SELECT language FROM search_config), coalesce(title, ''))
        WHERE id IN (
            SELECT id FROM conversations WHERE id > :after AND title_vector IS NULL ORDER BY id LIMIT :batch
        )
        RETURNING id
    """


def _backfill(statement: str, *, after: object) -> None:
    """Rows written before the trigger, in key order from `after`, a batch a
    transaction (autocommit): each holds its rows' locks for a moment, never
    the table's."""
    bind = op.get_bind()
    while True:
        ids = bind.execute(sa.text(statement), {"after": after, "batch": BATCH}).scalars().all()
        if not ids:
            return
        after = max(ids)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_messages_search_vector")
    op.execute("DROP TRIGGER conversations_title_vector ON conversations")
    op.execute("DROP TRIGGER messages_search_vector ON messages")
    op.execute("DROP FUNCTION conversations_title_vector()")
    op.execute("DROP FUNCTION messages_search_vector()")
    op.drop_column("conversations", "title_vector")
    op.drop_column("messages", "search_vector")
    op.drop_table("search_config")
