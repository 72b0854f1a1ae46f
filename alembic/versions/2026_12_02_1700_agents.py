"""agents: conversations keep their assistant; runs can stop at an interrupt; notes

Revision ID: 0008_agents
Revises: 0007_forks
Create Date: 2026-12-02 17:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_agents"
down_revision: str | None = "0007_forks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = "role IN ('user', 'assistant', 'system', 'tool')"
NEW_ROLES = "role IN ('user', 'assistant', 'system', 'tool', 'interrupt')"
OLD_STATUSES = "status IN ('running', 'succeeded', 'failed')"
NEW_STATUSES = "status IN ('running', 'succeeded', 'failed', 'interrupted')"


def _replace_check(table: str, name: str, condition: str) -> None:
    op.drop_constraint(op.f(f"{table}_{name}_check"), table, type_="check")
    op.create_check_constraint(op.f(f"{table}_{name}_check"), table, condition)


def upgrade() -> None:
    # A constant default: PostgreSQL adds it without rewriting the table.
    op.add_column(
        "conversations",
        sa.Column("assistant_id", sa.String(64), server_default="chat", nullable=False),
    )
    op.add_column("thread_runs", sa.Column("interrupts", postgresql.JSONB(), nullable=True))
    op.add_column("thread_runs", sa.Column("resume", postgresql.JSONB(), nullable=True))
    _replace_check("thread_runs", "status", NEW_STATUSES)
    _replace_check("messages", "role", NEW_ROLES)
    op.create_table(
        "notes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("notes_user_id_fkey"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("notes_conversation_id_fkey"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("notes_pkey")),
    )
    op.create_index(op.f("ix_notes_user_id"), "notes", ["user_id"])
    op.create_index(op.f("ix_notes_conversation_id"), "notes", ["conversation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notes_conversation_id"), table_name="notes")
    op.drop_index(op.f("ix_notes_user_id"), table_name="notes")
    op.drop_table("notes")
    op.execute("DELETE FROM messages WHERE role = 'interrupt'")
    _replace_check("messages", "role", OLD_ROLES)
    op.execute("UPDATE thread_runs SET status = 'succeeded' WHERE status = 'interrupted'")
    _replace_check("thread_runs", "status", OLD_STATUSES)
    op.drop_column("thread_runs", "resume")
    op.drop_column("thread_runs", "interrupts")
    op.drop_column("conversations", "assistant_id")
