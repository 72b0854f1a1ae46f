"""checkpoint ownership: conversation_id, user_id, archived, created_at on LangGraph's tables

Revision ID: 0003_checkpoint_ownership
Revises: 0002_langgraph_tables
Create Date: 2026-11-23 09:20:00+00:00

Foreign keys cascade from conversations, so deleting a conversation deletes
its checkpoints, blobs and writes in the same statement. Triggers fill the
columns for every row LangGraph writes (docs/decisions/0002-checkpoint-ownership-triggers.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.services.persistence.migrations import DROP_OWNERSHIP, OWNERSHIP_TRIGGERS, ownership_functions

revision: str = "0003_checkpoint_ownership"
down_revision: str | None = "0002_langgraph_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHILD_TABLES = ("checkpoint_blobs", "checkpoint_writes")


def _add_conversation_id(table: str) -> None:
    op.add_column(table, sa.Column("conversation_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f(f"{table}_conversation_id_fkey"),
        table,
        "conversations",
        ["conversation_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(op.f(f"ix_{table}_conversation_id"), table, ["conversation_id"])


def upgrade() -> None:
    _add_conversation_id("checkpoints")
    op.add_column("checkpoints", sa.Column("user_id", sa.Uuid(), nullable=True))
    op.add_column(
        "checkpoints", sa.Column("archived", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.add_column(
        "checkpoints",
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_foreign_key(
        op.f("checkpoints_user_id_fkey"), "checkpoints", "users", ["user_id"], ["id"], ondelete="CASCADE"
    )
    op.create_index(op.f("ix_checkpoints_user_id"), "checkpoints", ["user_id"])
    # Looking a checkpoint up by its id alone (get_checkpoint) without a scan.
    op.create_index("ix_checkpoints_checkpoint_id", "checkpoints", ["checkpoint_id"])
    for table in _CHILD_TABLES:
        _add_conversation_id(table)
    for statement in (*ownership_functions(drop_late_writes=False), *OWNERSHIP_TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_OWNERSHIP:
        op.execute(statement)
    for table in _CHILD_TABLES:
        op.drop_index(op.f(f"ix_{table}_conversation_id"), table_name=table)
        op.drop_constraint(op.f(f"{table}_conversation_id_fkey"), table, type_="foreignkey")
        op.drop_column(table, "conversation_id")
    op.drop_index("ix_checkpoints_checkpoint_id", table_name="checkpoints")
    op.drop_index(op.f("ix_checkpoints_user_id"), table_name="checkpoints")
    op.drop_index(op.f("ix_checkpoints_conversation_id"), table_name="checkpoints")
    op.drop_constraint(op.f("checkpoints_user_id_fkey"), "checkpoints", type_="foreignkey")
    op.drop_constraint(op.f("checkpoints_conversation_id_fkey"), "checkpoints", type_="foreignkey")
    for column in ("created_at", "archived", "user_id", "conversation_id"):
        op.drop_column("checkpoints", column)
