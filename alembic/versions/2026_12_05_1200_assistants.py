"""assistants: the configurations users make of the graphs, and every version of each

Revision ID: 0014_assistants
Revises: 0013_admission_check
Create Date: 2026-12-05 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014_assistants"
down_revision: str | None = "0013_admission_check"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EMPTY = sa.text("'{}'::jsonb")


def upgrade() -> None:
    op.create_table(
        "assistants",
        sa.Column("assistant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("graph_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("config", postgresql.JSONB(), server_default=_EMPTY, nullable=False),
        sa.Column("context", postgresql.JSONB(), server_default=_EMPTY, nullable=False),
        sa.Column("metadata", postgresql.JSONB(), server_default=_EMPTY, nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("assistants_user_id_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("assistant_id", name=op.f("assistants_pkey")),
    )
    op.create_index(
        op.f("ix_assistants_user_id_created_at"), "assistants", ["user_id", "created_at"], unique=False
    )
    op.create_table(
        "assistant_versions",
        sa.Column("assistant_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("graph_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("config", postgresql.JSONB(), nullable=False),
        sa.Column("context", postgresql.JSONB(), nullable=False),
        sa.Column("metadata", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assistant_id"],
            ["assistants.assistant_id"],
            name=op.f("assistant_versions_assistant_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assistant_id", "version", name=op.f("assistant_versions_pkey")),
    )


def downgrade() -> None:
    op.drop_table("assistant_versions")
    op.drop_index(op.f("ix_assistants_user_id_created_at"), table_name="assistants")
    op.drop_table("assistants")
