"""Scoring: items of ``spec.techDebt`` by severity on ``scoring_subjects`` (``debt_low`` to
``debt_critical``), so the technical-debt insight, the teams directory and the
``catalog_tech_debt_items`` gauge add up counts instead of reading every entity's body. Filled here
from the stored bodies of the scored entities, so an upgraded database shows its debt before the
next re-score.

Revision ID: 0012_portal
Revises: 0011_outbox
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_portal"
down_revision: str | None = "0011_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEVERITIES = ("low", "medium", "high", "critical")


def upgrade() -> None:
    """Add the four columns (0 by default), then count the debt of every scored entity that has some."""
    with op.batch_alter_table("scoring_subjects") as batch:
        for severity in _SEVERITIES:
            batch.add_column(sa.Column(f"debt_{severity}", sa.Integer(), nullable=False, server_default="0"))
    subjects = sa.table(
        "scoring_subjects",
        sa.column("entity_id", sa.BigInteger()),
        *(sa.column(f"debt_{severity}", sa.Integer()) for severity in _SEVERITIES),
    )
    entities = sa.table("entities", sa.column("id", sa.BigInteger()), sa.column("body", sa.Text()))
    bind = op.get_bind()
    query = (
        sa.select(entities.c.id, entities.c.body)
        .select_from(entities.join(subjects, subjects.c.entity_id == entities.c.id))
        .where(entities.c.body.like('%"techDebt"%'))
    )
    for entity_id, body in bind.execute(query).all():
        counts = _counts(body)
        if any(counts.values()):
            bind.execute(subjects.update().where(subjects.c.entity_id == entity_id).values(**counts))


def _counts(body: str) -> dict[str, int]:
    counts = {f"debt_{severity}": 0 for severity in _SEVERITIES}
    try:
        items = (json.loads(body).get("spec") or {}).get("techDebt")
    except (ValueError, AttributeError):
        return counts
    for item in items if isinstance(items, list) else []:
        severity = item.get("severity") if isinstance(item, dict) else None
        if severity in _SEVERITIES:
            counts[f"debt_{severity}"] += 1
    return counts


def downgrade() -> None:
    """Drop the columns."""
    with op.batch_alter_table("scoring_subjects") as batch:
        for severity in _SEVERITIES:
            batch.drop_column(f"debt_{severity}")
