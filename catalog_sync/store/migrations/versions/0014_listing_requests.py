"""A listing asked for by a push: a push delivered for a repository no source lists yet (created
minutes ago, its first push from a template) marks the configured sources that would list it, and the
next pass lists them at once instead of at the end of ``sync.interval_seconds``. The mark is in the
database, so a delivery answered by one process is honoured by whichever worker runs the next pass.

Revision ID: 0014_listing_requests
Revises: 0013_repository_keys
Create Date: 2026-12-03 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_listing_requests"
down_revision: str | None = "0013_repository_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``sources.listing_requested_at``."""
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("listing_requested_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("listing_requested_at")
