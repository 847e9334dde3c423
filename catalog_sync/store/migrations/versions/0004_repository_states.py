"""Repositories: index ``(state, removed_at)`` instead of ``state`` alone, so counting the repositories
still in the catalog by state (every scrape of ``/metrics``, the portal's home, ``/api/sources``)
reads the index only, instead of every repository row to test ``removed_at``.

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
    """Replace the index on ``state`` by one on ``(state, removed_at)``, which serves both."""
    op.create_index(op.f("ix_repositories_state_removed_at"), "repositories", ["state", "removed_at"])
    op.drop_index(op.f("ix_repositories_state"), table_name="repositories")


def downgrade() -> None:
    """Back to the index on ``state`` alone."""
    op.create_index(op.f("ix_repositories_state"), "repositories", ["state"])
    op.drop_index(op.f("ix_repositories_state_removed_at"), table_name="repositories")
