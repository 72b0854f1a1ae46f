"""store: LangGraph's long-term memory, as its setup() creates it, each row owned by a user

Revision ID: 0017_store
Revises: 0016_conversation_assistant
Create Date: 2026-12-05 13:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.services.store.migrations import (
    DROP_OWNER,
    OWNER_FUNCTION,
    OWNER_TRIGGER,
    PGVECTOR_AVAILABLE,
    STORE_MIGRATIONS_V3,
    STORE_TABLES,
    VECTOR_MIGRATIONS_V2,
    VECTOR_TABLES,
    create_store_schema,
    create_vector_schema,
)

revision: str = "0017_store"
down_revision: str | None = "0016_conversation_assistant"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_store_schema(op.execute, STORE_MIGRATIONS_V3)
    # The table is new and empty: the owner column is NOT NULL from the start.
    op.add_column("store", sa.Column("user_id", sa.Uuid(), nullable=False))
    op.create_foreign_key(
        op.f("store_user_id_fkey"), "store", "users", ["user_id"], ["id"], ondelete="CASCADE"
    )
    op.create_index(op.f("ix_store_user_id"), "store", ["user_id"], unique=False)
    op.execute(OWNER_FUNCTION)
    op.execute(OWNER_TRIGGER)
    # Search by meaning where the server has pgvector; elsewhere the store
    # searches by filters and recency (and says so at start-up).
    if op.get_bind().execute(sa.text(PGVECTOR_AVAILABLE)).scalar():
        create_vector_schema(op.execute, VECTOR_MIGRATIONS_V2)


def downgrade() -> None:
    for table in VECTOR_TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}")
    for statement in DROP_OWNER:
        op.execute(statement)
    for table in STORE_TABLES:
        op.drop_table(table)
