"""chat api: conversation counters, run error kinds, tombstones for deleted conversations

Revision ID: 0004_chat_api
Revises: 0003_checkpoint_ownership
Create Date: 2026-11-23 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.services.persistence.migrations import (
    DROP_TOMBSTONE_TRIGGER,
    TOMBSTONE_TRIGGER,
    ownership_functions,
)

revision: str = "0004_chat_api"
down_revision: str | None = "0003_checkpoint_ownership"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "conversations", sa.Column("message_count", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column("conversations", sa.Column("last_message_preview", sa.String(length=200), nullable=True))
    # Existing conversations get their counters from the messages they have.
    op.execute(
        """
        UPDATE conversations c SET message_count = m.n, last_message_preview = left(m.last, 200)
        FROM (
            SELECT DISTINCT ON (conversation_id) conversation_id,
                   count(*) OVER (PARTITION BY conversation_id) AS n, content AS last
            FROM messages ORDER BY conversation_id, id DESC
        ) m
        WHERE m.conversation_id = c.id
        """
    )
    op.add_column("thread_runs", sa.Column("error_kind", sa.String(length=100), nullable=True))
    op.create_table(
        "deleted_threads",
        sa.Column("thread_id", sa.Text(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("thread_id", name=op.f("deleted_threads_pkey")),
    )
    op.create_index(op.f("ix_deleted_threads_deleted_at"), "deleted_threads", ["deleted_at"])
    for statement in (*TOMBSTONE_TRIGGER, *ownership_functions(drop_late_writes=True)):
        op.execute(statement)


def downgrade() -> None:
    for statement in (*ownership_functions(drop_late_writes=False), *DROP_TOMBSTONE_TRIGGER):
        op.execute(statement)
    op.drop_table("deleted_threads")
    op.drop_column("thread_runs", "error_kind")
    op.drop_column("conversations", "last_message_preview")
    op.drop_column("conversations", "message_count")
