"""store_vectors_prefix: the owner's vectors found by their prefix, for the exact ranking

Revision ID: 0019_store_vectors_prefix
Revises: 0018_store_shared
Create Date: 2026-12-06 03:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.services.store.migrations import VECTORS_PREFIX_INDEX

revision: str = "0019_store_vectors_prefix"
down_revision: str | None = "0018_store_shared"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The vectors are where the server has pgvector (0017): elsewhere there is nothing to index.
_HAS_VECTORS = "SELECT to_regclass('store_vectors') IS NOT NULL"


def upgrade() -> None:
    # A plain CREATE INDEX, in the revision's transaction: it blocks writes to
    # the vectors while it builds (about a second for a million of them).
    if op.get_bind().execute(sa.text(_HAS_VECTORS)).scalar():
        op.execute(VECTORS_PREFIX_INDEX)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS store_vectors_prefix_idx")
