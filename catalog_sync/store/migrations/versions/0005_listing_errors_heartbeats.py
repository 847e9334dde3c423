"""Repositories remember why their listing could not be stored (``listing_error``: a branch or URL
longer than its column fails that repository alone, not the pass), and sync runs carry a heartbeat
(``heartbeat_at``), so a pass whose process died is closed as ``aborted`` instead of ``running`` forever;
every pass looks for the running ones through an index on ``result``.

Revision ID: 0005_listing_errors_heartbeats
Revises: 0004_repository_states
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_listing_errors_heartbeats"
down_revision: str | None = "0004_repository_states"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add both columns; existing rows need no value."""
    op.add_column("repositories", sa.Column("listing_error", sa.Text(), nullable=True))
    op.add_column("sync_runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_sync_runs_result"), "sync_runs", ["result"])


def downgrade() -> None:
    """Drop both columns."""
    op.drop_index(op.f("ix_sync_runs_result"), table_name="sync_runs")
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("heartbeat_at")
    with op.batch_alter_table("repositories") as batch:
        batch.drop_column("listing_error")
