"""crons: runs a user schedules, on a thread of theirs or stateless

Revision ID: 0015_crons
Revises: 0014_assistants
Create Date: 2026-12-05 12:15:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015_crons"
down_revision: str | None = "0014_assistants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crons",
        sa.Column("cron_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("assistant_id", sa.String(64), nullable=False),
        sa.Column("schedule", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("on_run_completed", sa.String(16), nullable=True),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("metadata", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "on_run_completed IN ('delete', 'keep')", name=op.f("crons_on_run_completed_check")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("crons_user_id_fkey"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("crons_conversation_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cron_id", name=op.f("crons_pkey")),
    )
    op.create_index(op.f("ix_crons_user_id_created_at"), "crons", ["user_id", "created_at"], unique=False)
    op.create_index(op.f("ix_crons_conversation_id"), "crons", ["conversation_id"], unique=False)
    # What the schedulers poll: only the crons that will fire.
    op.create_index(
        op.f("ix_crons_next_run_at"), "crons", ["next_run_at"], postgresql_where=sa.text("enabled")
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_crons_next_run_at"), table_name="crons")
    op.drop_index(op.f("ix_crons_conversation_id"), table_name="crons")
    op.drop_index(op.f("ix_crons_user_id_created_at"), table_name="crons")
    op.drop_table("crons")
