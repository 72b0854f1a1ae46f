"""forks: a conversation made by forking says which one it came from

Revision ID: 0007_forks
Revises: 0006_auth_tokens
Create Date: 2026-12-02 07:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_forks"
down_revision: str | None = "0006_auth_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column without a default: added without rewriting the table.
    op.add_column("conversations", sa.Column("forked_from_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("conversations_forked_from_id_fkey"),
        "conversations",
        "conversations",
        ["forked_from_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("conversations_forked_from_id_fkey"), "conversations", type_="foreignkey")
    op.drop_column("conversations", "forked_from_id")
