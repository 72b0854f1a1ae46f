"""streaming replies: a message's status, so a reply in progress is readable

Revision ID: 0005_streaming_replies
Revises: 0004_chat_api
Create Date: 2026-11-23 11:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_streaming_replies"
down_revision: str | None = "0004_chat_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the table.
    op.add_column(
        "messages", sa.Column("status", sa.String(length=16), server_default="complete", nullable=False)
    )
    op.create_check_constraint(
        op.f("messages_status_check"), "messages", "status IN ('complete', 'streaming')"
    )


def downgrade() -> None:
    # Replies still streaming have no final text yet: they go with the column.
    op.execute("DELETE FROM messages WHERE status = 'streaming'")
    op.drop_constraint(op.f("messages_status_check"), "messages", type_="check")
    op.drop_column("messages", "status")
