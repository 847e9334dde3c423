"""Repositories found by key alone: a webhook delivery names its repository by the host's id
(``github:api.github.com:1296269``) whatever source lists it, and the only index over ``key`` led with
``source_id``, so each delivery read the whole table; with thousands of repositories that was most of
the answer's time. The listing of a hosted source looks keys up the same way.

Revision ID: 0013_repository_keys
Revises: 0012_portal
Create Date: 2026-12-02 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013_repository_keys"
down_revision: str | None = "0012_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Index ``repositories.key``."""
    op.create_index(op.f("ix_repositories_key"), "repositories", ["key"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index(op.f("ix_repositories_key"), table_name="repositories")
