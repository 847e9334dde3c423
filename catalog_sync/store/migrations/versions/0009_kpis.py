"""KPIs measured: the last value of each KPI with the reason its last measurement failed, one point
per KPI and day for trends (400 days kept), and pushed values by their ``at`` so a replay is idempotent.

Revision ID: 0009_kpis
Revises: 0006_source_read_rules
Create Date: 2026-12-02 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_kpis"
down_revision: str | None = "0006_source_read_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the three KPI tables; nothing exists to fill them with until the first measuring round."""
    op.create_table(
        "kpi_values",
        sa.Column("entity_ref", sa.String(length=600), nullable=False),
        sa.Column("kpi_id", sa.String(length=63), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("entity_ref", "kpi_id", name=op.f("pk_kpi_values")),
    )
    op.create_table(
        "kpi_history",
        sa.Column("entity_ref", sa.String(length=600), nullable=False),
        sa.Column("kpi_id", sa.String(length=63), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("entity_ref", "kpi_id", "day", name=op.f("pk_kpi_history")),
    )
    op.create_index(op.f("ix_kpi_history_day"), "kpi_history", ["day"], unique=False)
    op.create_table(
        "kpi_pushes",
        sa.Column("entity_ref", sa.String(length=600), nullable=False),
        sa.Column("kpi_id", sa.String(length=63), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entity_ref", "kpi_id", "at", name=op.f("pk_kpi_pushes")),
    )


def downgrade() -> None:
    """Drop the KPI tables (their values are lost; the declarations stay in the descriptors)."""
    op.drop_table("kpi_pushes")
    op.drop_index(op.f("ix_kpi_history_day"), table_name="kpi_history")
    op.drop_table("kpi_history")
    op.drop_table("kpi_values")
