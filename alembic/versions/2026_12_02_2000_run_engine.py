"""run engine: runs held under leases, queued, cancellable; their events stored

Revision ID: 0009_run_engine
Revises: 0008_agents
Create Date: 2026-12-02 20:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_run_engine"
down_revision: str | None = "0008_agents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "status IN ('running', 'succeeded', 'failed', 'interrupted')"
NEW_STATUSES = "status IN ('pending', 'running', 'succeeded', 'failed', 'interrupted', 'cancelled')"

# Before a process held its runs under a lease, a crash could leave more than
# one run of a conversation "running"; the newest stays, as the old code saw it.
_ONE_RUNNING_PER_CONVERSATION = """
UPDATE thread_runs SET status = 'failed', error_kind = 'Interrupted',
    error = 'The run did not finish: its process stopped.', finished_at = now()
WHERE status = 'running' AND run_id NOT IN (
    SELECT DISTINCT ON (conversation_id) run_id FROM thread_runs
    WHERE status = 'running' ORDER BY conversation_id, started_at DESC
)
"""


def _replace_check(table: str, name: str, condition: str) -> None:
    op.drop_constraint(op.f(f"{table}_{name}_check"), table, type_="check")
    op.create_check_constraint(op.f(f"{table}_{name}_check"), table, condition)


def upgrade() -> None:
    op.add_column("thread_runs", sa.Column("lease_owner", sa.Uuid(), nullable=True))
    op.add_column("thread_runs", sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("thread_runs", sa.Column("cancel_action", sa.String(16), nullable=True))
    op.create_check_constraint(
        op.f("thread_runs_cancel_action_check"), "thread_runs", "cancel_action IN ('interrupt', 'rollback')"
    )
    _replace_check("thread_runs", "status", NEW_STATUSES)
    # Runs left running by the previous version: their lease is already over,
    # so the first process up marks them interrupted and frees the conversations.
    op.execute("UPDATE thread_runs SET lease_expires_at = now() WHERE status = 'running'")
    op.execute(_ONE_RUNNING_PER_CONVERSATION)
    op.create_index(
        op.f("ix_thread_runs_running_conversation_id"),
        "thread_runs",
        ["conversation_id"],
        unique=True,
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_index(
        op.f("ix_thread_runs_pending_conversation_id_started_at"),
        "thread_runs",
        ["conversation_id", "started_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "run_events",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("events", postgresql.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["thread_runs.run_id"], name=op.f("run_events_run_id_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("run_events_pkey")),
    )


def downgrade() -> None:
    op.drop_table("run_events")
    op.drop_index(op.f("ix_thread_runs_pending_conversation_id_started_at"), table_name="thread_runs")
    op.drop_index(op.f("ix_thread_runs_running_conversation_id"), table_name="thread_runs")
    op.execute("DELETE FROM thread_runs WHERE status = 'pending'")
    op.execute(
        "UPDATE thread_runs SET status = 'failed', error_kind = 'Cancelled' WHERE status = 'cancelled'"
    )
    _replace_check("thread_runs", "status", OLD_STATUSES)
    op.drop_constraint(op.f("thread_runs_cancel_action_check"), "thread_runs", type_="check")
    op.drop_column("thread_runs", "cancel_action")
    op.drop_column("thread_runs", "lease_expires_at")
    op.drop_column("thread_runs", "lease_owner")
