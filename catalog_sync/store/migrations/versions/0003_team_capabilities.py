"""Scoring: ``scoring_capabilities``, how many live products of each team serve each capability, so a
team's summary finds the capabilities it shares with other teams in a few rows instead of a scan of
every product. Filled here from ``scoring_subjects``, so an upgraded database needs no re-score.

Revision ID: 0003_team_capabilities
Revises: 0002_scoring
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_team_capabilities"
down_revision: str | None = "0002_scoring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SERVING = ("product", "component")


def upgrade() -> None:
    """Create the table and fill it from what the last re-score stored."""
    table = op.create_table(
        "scoring_capabilities",
        sa.Column("capability", sa.String(length=600), nullable=False),
        sa.Column("owner", sa.String(length=600), nullable=False),
        sa.Column("products", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("capability", "owner", name=op.f("pk_scoring_capabilities")),
    )
    op.create_index(op.f("ix_scoring_capabilities_owner"), "scoring_capabilities", ["owner"], unique=False)
    subjects = sa.table(
        "scoring_subjects",
        sa.column("kind", sa.String()),
        sa.column("live", sa.Boolean()),
        sa.column("owner", sa.String()),
        sa.column("capabilities", sa.Text()),
    )
    query = sa.select(subjects.c.owner, subjects.c.capabilities).where(
        subjects.c.live.is_(True), subjects.c.owner != "", subjects.c.kind.in_(_SERVING)
    )
    counts: Counter[tuple[str, str]] = Counter()
    for owner, capabilities in op.get_bind().execute(query):
        for capability in dict.fromkeys(json.loads(capabilities or "[]")):
            counts[(capability, owner)] += 1
    rows = [{"capability": cap, "owner": owner, "products": n} for (cap, owner), n in sorted(counts.items())]
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    """Drop the table (the team summary of the older version scans instead)."""
    op.drop_index(op.f("ix_scoring_capabilities_owner"), table_name="scoring_capabilities")
    op.drop_table("scoring_capabilities")
