"""auth: revocable access tokens, failed logins counted in the database

Revision ID: 0006_auth_tokens
Revises: 0005_streaming_replies
Create Date: 2026-12-02 06:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_auth_tokens"
down_revision: str | None = "0005_streaming_replies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # New tables only: nothing existing is locked or rewritten. Tokens issued
    # before (signed JWTs) stop working, so users log in once more.
    op.create_table(
        "access_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("access_tokens_user_id_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("access_tokens_pkey")),
    )
    op.create_index(op.f("ix_access_tokens_user_id"), "access_tokens", ["user_id"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("subject", sa.String(length=400), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("login_failures_pkey")),
    )
    op.create_index("ix_login_failures_subject_failed_at", "login_failures", ["subject", "failed_at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_subject_failed_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index(op.f("ix_access_tokens_user_id"), table_name="access_tokens")
    op.drop_table("access_tokens")
