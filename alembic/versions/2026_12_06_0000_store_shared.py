"""store_shared: the app's own read-only items in the store, owned by no user

Revision ID: 0018_store_shared
Revises: 0017_store
Create Date: 2026-12-06 00:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

from app.services.store.migrations import (
    APP_OWNER,
    DROP_OWNER,
    OWNER_FUNCTION,
    OWNER_FUNCTION_V2,
    OWNER_KIND_CHECK,
    OWNER_TRIGGER,
)

revision: str = "0018_store_shared"
down_revision: str | None = "0017_store"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("store", "user_id", nullable=True)
    op.execute(OWNER_FUNCTION_V2)
    op.create_check_constraint(op.f("store_owner_check"), "store", OWNER_KIND_CHECK)


def downgrade() -> None:
    # The app's items have no owner the old schema can hold: they go (the
    # operator loads them again with `surfsense-db store-load`).
    op.execute(f"DELETE FROM store WHERE split_part(prefix, '.', 1) = '{APP_OWNER}'")
    op.drop_constraint(op.f("store_owner_check"), "store", type_="check")
    for statement in (*DROP_OWNER, OWNER_FUNCTION, OWNER_TRIGGER):
        op.execute(statement)
    op.alter_column("store", "user_id", nullable=False)
