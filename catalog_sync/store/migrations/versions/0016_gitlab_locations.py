"""GitLab projects read again: their entities' ``backstage.io/managed-by-location`` (and origin) now
link a file as ``<project>/-/blob/<branch>/<path>``, the route GitLab 16 still serves. An entity is
rewritten only when its project is read, and a project whose commit has not moved is not read: left
so, every entity stored before would keep linking ``<project>/blob/...`` (a 404 on GitLab 16) while
the locations API names the new form, until someone pushes to its project. Marked here, each project
is read once more at the next pass, at its current commit.

Revision ID: 0016_gitlab_locations
Revises: 0015_default_ports
Create Date: 2026-12-03 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_gitlab_locations"
down_revision: str | None = "0015_default_ports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Mark every GitLab project still held (key ``gitlab:...``) to be read again, due at once."""
    repositories = sa.table(
        "repositories",
        sa.column("key", sa.String),
        sa.column("removed_at", sa.DateTime(timezone=True)),
        sa.column("rescan", sa.Boolean),
        sa.column("next_sync_at", sa.DateTime(timezone=True)),
    )
    op.get_bind().execute(
        sa.update(repositories)
        .where(repositories.c.key.like("gitlab:%"), repositories.c.removed_at.is_(None))
        .values(rescan=True, next_sync_at=None)
    )


def downgrade() -> None:
    """Nothing to undo: reading a project again changes nothing but its entities' locations."""
