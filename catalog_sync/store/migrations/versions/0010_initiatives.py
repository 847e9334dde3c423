"""Initiatives and exemptions: each initiative's progress (in scope, done, per team, at risk), the
entities it covers, one burn-up point per initiative and day (400 days kept), and per scorecard result
the number of checks passed only by an exemption.

Revision ID: 0010_initiatives
Revises: 0009_kpis
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_initiatives"
down_revision: str | None = "0009_kpis"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the initiative tables and count exempted checks; the next re-score fills them."""
    with op.batch_alter_table("scorecard_results") as batch:
        batch.add_column(sa.Column("exempted", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "initiatives",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("entity_ref", sa.String(length=600), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=600), nullable=False),
        sa.Column("scorecard", sa.String(length=63), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("applies_to", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.String(length=10), nullable=False),
        sa.Column("due_on", sa.String(length=10), nullable=False),
        sa.Column("in_scope", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("teams", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at_risk", sa.Boolean(), nullable=False),
        sa.Column("projected", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_initiatives")),
    )
    op.create_index(op.f("ix_initiatives_owner"), "initiatives", ["owner"], unique=False)
    op.create_table(
        "initiative_entities",
        sa.Column("initiative", sa.String(length=63), nullable=False),
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity_ref", sa.String(length=600), nullable=False),
        sa.Column("owner", sa.String(length=600), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entities.id"],
            name=op.f("fk_initiative_entities_entity_id_entities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("initiative", "entity_id", name=op.f("pk_initiative_entities")),
    )
    op.create_index(
        op.f("ix_initiative_entities_entity_id"), "initiative_entities", ["entity_id"], unique=False
    )
    op.create_index(
        op.f("ix_initiative_entities_initiative_done_entity_ref"),
        "initiative_entities",
        ["initiative", "done", "entity_ref"],
        unique=False,
    )
    op.create_table(
        "initiative_history",
        sa.Column("initiative", sa.String(length=63), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("in_scope", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("initiative", "day", name=op.f("pk_initiative_history")),
    )
    op.create_index(op.f("ix_initiative_history_day"), "initiative_history", ["day"], unique=False)


def downgrade() -> None:
    """Drop the initiative tables (their history is lost; the initiatives stay in the descriptors)."""
    op.drop_index(op.f("ix_initiative_history_day"), table_name="initiative_history")
    op.drop_table("initiative_history")
    op.drop_index(op.f("ix_initiative_entities_initiative_done_entity_ref"), table_name="initiative_entities")
    op.drop_index(op.f("ix_initiative_entities_entity_id"), table_name="initiative_entities")
    op.drop_table("initiative_entities")
    op.drop_index(op.f("ix_initiatives_owner"), table_name="initiatives")
    op.drop_table("initiatives")
    with op.batch_alter_table("scorecard_results") as batch:
        batch.drop_column("exempted")
