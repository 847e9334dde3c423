"""Repositories: count the ones still in the catalog from indexes alone, instead of reading every
repository row to test ``removed_at``: ``(state, removed_at)`` (replacing ``state``) for the counts by
state of every ``/metrics`` scrape, ``(removed_at, source_id, state)`` for the counts by source and state
of the portal's home and ``/api/sources``, and the total of ``/api/repositories``.

Revision ID: 0004_repository_states
Revises: 0003_team_capabilities
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_repository_states"
down_revision: str | None = "0003_team_capabilities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Replace the index on ``state`` by one on ``(state, removed_at)``, and index live repositories."""
    op.create_index(op.f("ix_repositories_state_removed_at"), "repositories", ["state", "removed_at"])
    live = ["removed_at", "source_id", "state"]
    op.create_index(op.f("ix_repositories_removed_at_source_id_state"), "repositories", live)
    op.drop_index(op.f("ix_repositories_state"), table_name="repositories")


def downgrade() -> None:
    """Back to the index on ``state`` alone."""
    op.create_index(op.f("ix_repositories_state"), "repositories", ["state"])
    op.drop_index(op.f("ix_repositories_removed_at_source_id_state"), table_name="repositories")
    op.drop_index(op.f("ix_repositories_state_removed_at"), table_name="repositories")
