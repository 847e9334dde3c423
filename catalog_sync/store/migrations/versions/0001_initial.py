"""The initial schema: sources, repositories, descriptor files, entities, search rows, relations,
problems and sync runs, exactly as ``catalog_sync.store.tables`` declares them.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create every table and index."""
    op.create_table(
        "sources",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("last_repository_count", sa.Integer(), nullable=True),
        sa.Column("last_discovery_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "sync_runs",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("repositories", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index(op.f("ix_sync_runs_started_at"), "sync_runs", ["started_at"], unique=False)
    op.create_table(
        "repositories",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_commit", sa.String(length=64), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("has_descriptors", sa.Boolean(), nullable=True),
        sa.Column("facts", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rescan", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_repositories_source_id_sources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repositories")),
        sa.UniqueConstraint("source_id", "key", name=op.f("uq_repositories_source_id_key")),
    )
    op.create_index(op.f("ix_repositories_next_sync_at"), "repositories", ["next_sync_at"], unique=False)
    op.create_index(op.f("ix_repositories_state"), "repositories", ["state"], unique=False)
    op.create_table(
        "descriptor_files",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("repository_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("blob_sha", sa.String(length=64), nullable=False),
        sa.Column("last_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_descriptor_files_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_descriptor_files")),
        sa.UniqueConstraint("repository_id", "path", name=op.f("uq_descriptor_files_repository_id_path")),
    )
    op.create_table(
        "entities",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("ref_key", sa.String(length=600), nullable=False),
        sa.Column("kind", sa.String(length=63), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("lifecycle", sa.String(length=63), nullable=True),
        sa.Column("repository_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("path", sa.String(length=1024), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("orphaned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("descriptor_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_entities_repository_id_repositories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entities")),
        sa.UniqueConstraint("ref_key", name=op.f("uq_entities_ref_key")),
        sa.UniqueConstraint("uid", name=op.f("uq_entities_uid")),
    )
    op.create_index(op.f("ix_entities_kind_lifecycle"), "entities", ["kind", "lifecycle"], unique=False)
    op.create_index(op.f("ix_entities_repository_id"), "entities", ["repository_id"], unique=False)
    op.create_table(
        "problems",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("repository_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("column", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=255), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("entity_ref", sa.String(length=600), nullable=True),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_problems_entity_id_entities"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_problems_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problems")),
    )
    op.create_index(op.f("ix_problems_category"), "problems", ["category"], unique=False)
    op.create_index(op.f("ix_problems_entity_id"), "problems", ["entity_id"], unique=False)
    op.create_index(op.f("ix_problems_repository_id"), "problems", ["repository_id"], unique=False)
    op.create_table(
        "relations",
        sa.Column(
            "originating_entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("source_key", sa.String(length=600), nullable=False),
        sa.Column("type", sa.String(length=63), nullable=False),
        sa.Column("target_key", sa.String(length=600), nullable=False),
        sa.ForeignKeyConstraint(
            ["originating_entity_id"],
            ["entities.id"],
            name=op.f("fk_relations_originating_entity_id_entities"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_relations_originating_entity_id"), "relations", ["originating_entity_id"], unique=False
    )
    op.create_index(op.f("ix_relations_source_key"), "relations", ["source_key"], unique=False)
    op.create_index(op.f("ix_relations_target_key"), "relations", ["target_key"], unique=False)
    op.create_table(
        "search",
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=True),
        sa.Column("original_value", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_search_entity_id_entities"), ondelete="CASCADE"
        ),
    )
    op.create_index(
        op.f("ix_search_entity_id_key_value"), "search", ["entity_id", "key", "value"], unique=False
    )
    op.create_index(
        op.f("ix_search_key_value_entity_id_original_value"),
        "search",
        ["key", "value", "entity_id", "original_value"],
        unique=False,
    )

    if op.get_bind().dialect.name == "postgresql":
        # Filters and facets constrain key and value together; without these statistics PostgreSQL
        # assumes them independent and misjudges how many entities a condition keeps by 10-100x.
        op.execute("CREATE STATISTICS st_search_key_value (mcv, dependencies) ON key, value FROM search")


def downgrade() -> None:
    """Drop everything, newest dependants first."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_search_key_value")
    op.drop_index(op.f("ix_search_key_value_entity_id_original_value"), table_name="search")
    op.drop_index(op.f("ix_search_entity_id_key_value"), table_name="search")
    op.drop_table("search")
    op.drop_index(op.f("ix_relations_target_key"), table_name="relations")
    op.drop_index(op.f("ix_relations_source_key"), table_name="relations")
    op.drop_index(op.f("ix_relations_originating_entity_id"), table_name="relations")
    op.drop_table("relations")
    op.drop_index(op.f("ix_problems_repository_id"), table_name="problems")
    op.drop_index(op.f("ix_problems_entity_id"), table_name="problems")
    op.drop_index(op.f("ix_problems_category"), table_name="problems")
    op.drop_table("problems")
    op.drop_index(op.f("ix_entities_repository_id"), table_name="entities")
    op.drop_index(op.f("ix_entities_kind_lifecycle"), table_name="entities")
    op.drop_table("entities")
    op.drop_table("descriptor_files")
    op.drop_index(op.f("ix_repositories_state"), table_name="repositories")
    op.drop_index(op.f("ix_repositories_next_sync_at"), table_name="repositories")
    op.drop_table("repositories")
    op.drop_index(op.f("ix_sync_runs_started_at"), table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_table("sources")
