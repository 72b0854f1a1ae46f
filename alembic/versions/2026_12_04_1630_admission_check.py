"""admission check: whether a conversation has an active run, read after its lock

Revision ID: 0013_admission_check
Revises: 0012_content_blocks
Create Date: 2026-12-04 16:30:00+00:00

A run is admitted under its conversation's row lock, in the statement that
takes the lock. In READ COMMITTED every subquery of that statement reads the
statement's snapshot, taken before the lock was granted: a request that waited
behind another's admission saw the conversation free and started a second run
(decision 0015). A VOLATILE function takes a fresh snapshot for each query it
runs, so called above the lock it sees every run committed before the lock
was granted.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_admission_check"
down_revision: str | None = "0012_content_blocks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# VOLATILE is the point: a STABLE or IMMUTABLE function would read the
# caller's snapshot. The subquery keeps the planner from inlining it.
_HAS_ACTIVE_RUN = """
CREATE FUNCTION conversation_has_active_run(conversation uuid) RETURNS boolean
LANGUAGE sql VOLATILE AS $$
    SELECT EXISTS (
        SELECT FROM thread_runs
        WHERE conversation_id = conversation AND status IN ('pending', 'running')
    )
$$
"""


def upgrade() -> None:
    op.execute(_HAS_ACTIVE_RUN)


def downgrade() -> None:
    op.execute("DROP FUNCTION conversation_has_active_run(uuid)")
