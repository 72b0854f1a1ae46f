"""agent server: conversations carry a thread's metadata, runs the Agent Server request that made them

Revision ID: 0010_agent_server
Revises: 0009_run_engine
Create Date: 2026-12-02 23:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_agent_server"
down_revision: str | None = "0009_run_engine"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: PostgreSQL adds it without rewriting the table. No
    # index: a metadata filter runs within one owner's conversations, which
    # the (user_id, ...) index finds.
    op.add_column(
        "conversations",
        sa.Column("metadata", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
    )
    op.add_column("thread_runs", sa.Column("kwargs", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("thread_runs", "kwargs")
    op.drop_column("conversations", "metadata")
