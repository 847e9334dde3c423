"""Sources remember the rules their repositories were read by (``read_rules``: a digest of the
descriptor patterns, fact paths, scan budgets and the source's trust), so a change of those rules
re-reads the source's repositories at the next pass instead of waiting for each one's next commit.

Revision ID: 0006_source_read_rules
Revises: 0005_listing_errors_heartbeats
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_source_read_rules"
down_revision: str | None = "0005_listing_errors_heartbeats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column; a source without a value is re-read once under the rules of its next pass."""
    op.add_column("sources", sa.Column("read_rules", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("read_rules")
