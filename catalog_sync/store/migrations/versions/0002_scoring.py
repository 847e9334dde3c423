"""Scoring: scorecard definitions, results, their summaries and daily history, ownership gaps, and
the bookkeeping of incremental rescoring, exactly as ``catalog_sync.store.tables`` declares them.

Revision ID: 0002_scoring
Revises: 0001_initial
Create Date: 2025-01-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_scoring"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the scoring tables and their indexes."""
    op.create_table(
        "scorecard_history",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("scorecard", sa.String(length=63), nullable=False),
        sa.Column("level", sa.String(length=63), nullable=False),
        sa.Column("entities", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day", "scorecard", "level", name=op.f("pk_scorecard_history")),
    )
    op.create_index(
        op.f("ix_scorecard_history_scorecard_day"), "scorecard_history", ["scorecard", "day"], unique=False
    )
    _create_summary("scorecard_level_summary", "level", 63)
    _create_summary("scorecard_owner_summary", "owner", 600)
    op.create_table(
        "scorecards",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("entity_ref", sa.String(length=600), nullable=True),
        sa.Column("levels", sa.Text(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scorecards")),
    )
    op.create_table(
        "scoring_dependencies",
        sa.Column("entity_id", _id(), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("part", sa.String(length=63), nullable=False),
    )
    op.create_index(
        op.f("ix_scoring_dependencies_entity_id"), "scoring_dependencies", ["entity_id"], unique=False
    )
    op.create_index(op.f("ix_scoring_dependencies_key"), "scoring_dependencies", ["key"], unique=False)
    op.create_table(
        "scoring_repositories",
        sa.Column("repository_id", _id(), autoincrement=False, nullable=False),
        sa.Column("last_commit", sa.String(length=64), nullable=True),
        sa.Column("has_descriptors", sa.Boolean(), nullable=True),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("repository_id", name=op.f("pk_scoring_repositories")),
    )
    op.create_table(
        "scoring_state",
        sa.Column("key", sa.String(length=63), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_scoring_state")),
    )
    op.create_table(
        "scoring_subjects",
        sa.Column("entity_id", _id(), autoincrement=False, nullable=False),
        sa.Column("ref_key", sa.String(length=600), nullable=False),
        sa.Column("kind", sa.String(length=63), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(length=600), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("capabilities", sa.Text(), nullable=False),
        sa.Column("runbooks_manual", sa.Integer(), nullable=False),
        sa.Column("runbooks_automated", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tallies", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("entity_id", name=op.f("pk_scoring_subjects")),
    )
    op.create_index(op.f("ix_scoring_subjects_owner"), "scoring_subjects", ["owner"], unique=False)
    op.create_index(op.f("ix_scoring_subjects_ref_key"), "scoring_subjects", ["ref_key"], unique=False)
    op.create_index(
        op.f("ix_scoring_subjects_valid_until"), "scoring_subjects", ["valid_until"], unique=False
    )
    op.create_table(
        "ownership_gaps",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", _id(), nullable=True),
        sa.Column("repository_id", _id(), nullable=True),
        sa.Column("subject", sa.String(length=1024), nullable=False),
        sa.Column("entity_ref", sa.String(length=600), nullable=True),
        sa.Column("kind", sa.String(length=63), nullable=True),
        sa.Column("owner", sa.String(length=600), nullable=True),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entities.id"],
            name=op.f("fk_ownership_gaps_entity_id_entities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_ownership_gaps_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ownership_gaps")),
    )
    op.create_index(op.f("ix_ownership_gaps_entity_id"), "ownership_gaps", ["entity_id"], unique=False)
    op.create_index(op.f("ix_ownership_gaps_owner"), "ownership_gaps", ["owner"], unique=False)
    op.create_index(
        op.f("ix_ownership_gaps_repository_id"), "ownership_gaps", ["repository_id"], unique=False
    )
    op.create_index(
        op.f("ix_ownership_gaps_type_subject"), "ownership_gaps", ["type", "subject"], unique=False
    )
    op.create_table(
        "scorecard_results",
        sa.Column("scorecard", sa.String(length=63), nullable=False),
        sa.Column("entity_id", _id(), nullable=False),
        sa.Column("entity_ref", sa.String(length=600), nullable=False),
        sa.Column("kind", sa.String(length=63), nullable=False),
        sa.Column("level", sa.String(length=63), nullable=False),
        sa.Column("level_rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=600), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entities.id"],
            name=op.f("fk_scorecard_results_entity_id_entities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("scorecard", "entity_id", name=op.f("pk_scorecard_results")),
    )
    op.create_index(op.f("ix_scorecard_results_entity_id"), "scorecard_results", ["entity_id"], unique=False)
    op.create_index(op.f("ix_scorecard_results_owner"), "scorecard_results", ["owner"], unique=False)
    op.create_index(
        op.f("ix_scorecard_results_scorecard_entity_ref"),
        "scorecard_results",
        ["scorecard", "entity_ref"],
        unique=False,
    )
    op.create_index(
        op.f("ix_scorecard_results_scorecard_level_entity_ref"),
        "scorecard_results",
        ["scorecard", "level", "entity_ref"],
        unique=False,
    )


def _create_summary(name: str, key: str, length: int) -> None:
    """One of the two summary tables: totals per scorecard and ``key`` (a level or an owner)."""
    op.create_table(
        name,
        sa.Column("scorecard", sa.String(length=63), nullable=False),
        sa.Column(key, sa.String(length=length), nullable=False),
        sa.Column("entities", sa.Integer(), nullable=False),
        sa.Column("score_tenths", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scorecard", key, name=op.f(f"pk_{name}")),
    )


def downgrade() -> None:
    """Drop the scoring tables, dependants first."""
    op.drop_index(op.f("ix_scorecard_results_scorecard_level_entity_ref"), table_name="scorecard_results")
    op.drop_index(op.f("ix_scorecard_results_scorecard_entity_ref"), table_name="scorecard_results")
    op.drop_index(op.f("ix_scorecard_results_owner"), table_name="scorecard_results")
    op.drop_index(op.f("ix_scorecard_results_entity_id"), table_name="scorecard_results")
    op.drop_table("scorecard_results")
    op.drop_index(op.f("ix_ownership_gaps_type_subject"), table_name="ownership_gaps")
    op.drop_index(op.f("ix_ownership_gaps_repository_id"), table_name="ownership_gaps")
    op.drop_index(op.f("ix_ownership_gaps_owner"), table_name="ownership_gaps")
    op.drop_index(op.f("ix_ownership_gaps_entity_id"), table_name="ownership_gaps")
    op.drop_table("ownership_gaps")
    op.drop_index(op.f("ix_scoring_subjects_valid_until"), table_name="scoring_subjects")
    op.drop_index(op.f("ix_scoring_subjects_ref_key"), table_name="scoring_subjects")
    op.drop_index(op.f("ix_scoring_subjects_owner"), table_name="scoring_subjects")
    op.drop_table("scoring_subjects")
    op.drop_table("scoring_state")
    op.drop_table("scoring_repositories")
    op.drop_index(op.f("ix_scoring_dependencies_key"), table_name="scoring_dependencies")
    op.drop_index(op.f("ix_scoring_dependencies_entity_id"), table_name="scoring_dependencies")
    op.drop_table("scoring_dependencies")
    op.drop_table("scorecards")
    op.drop_table("scorecard_owner_summary")
    op.drop_table("scorecard_level_summary")
    op.drop_index(op.f("ix_scorecard_history_scorecard_day"), table_name="scorecard_history")
    op.drop_table("scorecard_history")
