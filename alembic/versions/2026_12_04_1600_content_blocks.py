"""content blocks: a message's blocks (images, files) beside its text, and a queued chat run's

Revision ID: 0012_content_blocks
Revises: 0011_search
Create Date: 2026-12-04 16:00:00+00:00

Nullable columns with no default: added without a rewrite, so a live messages
table takes them at once. `content` keeps the text parts, so search, previews
and titles (and the search trigger, which reads `content`) are unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012_content_blocks"
down_revision: str | None = "0011_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("blocks", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("thread_runs", sa.Column("blocks", postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("thread_runs", "blocks")
    op.drop_column("messages", "blocks")
