"""langgraph tables: checkpoints, blobs, writes, as the saver's setup() creates them

Revision ID: 0002_langgraph_tables
Revises: 0001_app_tables
Create Date: 2026-11-23 09:10:00+00:00
"""

from collections.abc import Sequence

from alembic import op

from app.services.persistence.migrations import (
    LANGGRAPH_MIGRATIONS_V9,
    LANGGRAPH_TABLES,
    create_langgraph_schema,
)

revision: str = "0002_langgraph_tables"
down_revision: str | None = "0001_app_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_langgraph_schema(op.execute, LANGGRAPH_MIGRATIONS_V9)


def downgrade() -> None:
    for table in LANGGRAPH_TABLES:
        op.drop_table(table)
