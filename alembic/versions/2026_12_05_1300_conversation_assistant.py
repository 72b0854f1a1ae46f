"""conversation assistant: a conversation may keep one of its user's assistants

Revision ID: 0016_conversation_assistant
Revises: 0015_crons
Create Date: 2026-12-05 13:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_conversation_assistant"
down_revision: str | None = "0015_crons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: adding it rewrites no row and holds the lock for a moment only.
    op.add_column("conversations", sa.Column("stored_assistant_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("conversations_stored_assistant_id_fkey"),
        "conversations",
        "assistants",
        ["stored_assistant_id"],
        ["assistant_id"],
        ondelete="SET NULL",
    )
    # An assistant's deletion finds the conversations it sets to NULL by this index.
    op.create_index(
        op.f("ix_conversations_stored_assistant_id"), "conversations", ["stored_assistant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_conversations_stored_assistant_id"), table_name="conversations")
    op.drop_constraint(op.f("conversations_stored_assistant_id_fkey"), "conversations", type_="foreignkey")
    op.drop_column("conversations", "stored_assistant_id")
