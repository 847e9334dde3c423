"""Push webhooks: the deliveries answered (``webhook_deliveries``, so a redelivery is recognised and
applied once), and on each repository the pushed commit waiting to be read (``pushed_commit``) with
when its delivery arrived (``pushed_at``), written in the delivery's own transaction so a process that
dies right after answering loses nothing.

Revision ID: 0008_webhook_deliveries
Revises: 0006_source_read_rules
Create Date: 2026-12-02 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_webhook_deliveries"
down_revision: str | None = "0007_host_listings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add the table and the two columns; existing repositories have no push waiting."""
    op.add_column("repositories", sa.Column("pushed_commit", sa.String(length=64), nullable=True))
    op.add_column("repositories", sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "webhook_deliveries",
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("repository_id", _ID, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "delivery_id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(op.f("ix_webhook_deliveries_received_at"), "webhook_deliveries", ["received_at"])


def downgrade() -> None:
    """Drop the table and the columns."""
    op.drop_index(op.f("ix_webhook_deliveries_received_at"), table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("repositories") as batch:
        batch.drop_column("pushed_at")
        batch.drop_column("pushed_commit")
