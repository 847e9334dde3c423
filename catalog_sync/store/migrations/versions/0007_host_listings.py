"""Repositories count the complete listings of their source they were missing from
(``missed_listings``), so a source listed from a hosting API removes a repository only after it is
missing from two of them, never after one listing that raced a change on the host.

Revision ID: 0007_host_listings
Revises: 0006_source_read_rules
Create Date: 2026-12-02 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_host_listings"
down_revision: str | None = "0006_source_read_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the counter; every existing repository was in its source's last listing."""
    column = sa.Column("missed_listings", sa.Integer(), nullable=False, server_default=sa.text("0"))
    op.add_column("repositories", column)


def downgrade() -> None:
    """Drop the counter."""
    with op.batch_alter_table("repositories") as batch:
        batch.drop_column("missed_listings")
