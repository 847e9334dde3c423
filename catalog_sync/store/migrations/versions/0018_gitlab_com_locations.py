"""Repositories on gitlab.com named by their URL (a ``git`` source, a registration) read again: their
entities' ``backstage.io/managed-by-location`` (and origin) now link a file as a GitLab project's,
``<project>/-/blob/...``, as a ``gitlab`` source's always did; before, it was ``<project>/blob/...``,
a route GitLab no longer serves. An entity is rewritten only when its repository is read, and a
repository whose commit has not moved is not read: marked here, each is read once more at the next
pass, at its current commit.

Revision ID: 0018_gitlab_com_locations
Revises: 0017_clone_url_locations
Create Date: 2026-12-04 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_gitlab_com_locations"
down_revision: str | None = "0017_clone_url_locations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_ON_GITLAB_COM = (
    "http%://gitlab.com/%",
    "http%://gitlab.com:%",
    "http%://%@gitlab.com/%",
    "http%://%@gitlab.com:%",
)
"""gitlab.com's http(s) URLs, with a user name (a registration keeps it) or a port too; one that only
looks so (``@gitlab.com/`` in a path) is read once more for nothing, never left with a dead link."""


def upgrade() -> None:
    """Mark every repository still held whose URL is an http(s) one on gitlab.com, due at once (a
    ``gitlab`` source's projects, keyed ``gitlab:...``, were linked so already)."""
    repositories = sa.table(
        "repositories",
        sa.column("key", sa.String),
        sa.column("url", sa.String),
        sa.column("removed_at", sa.DateTime(timezone=True)),
        sa.column("rescan", sa.Boolean),
        sa.column("next_sync_at", sa.DateTime(timezone=True)),
    )
    url = sa.func.lower(repositories.c.url)
    op.get_bind().execute(
        sa.update(repositories)
        .where(
            sa.or_(*(url.like(pattern) for pattern in _ON_GITLAB_COM)),
            sa.not_(repositories.c.key.like("gitlab:%")),
            repositories.c.removed_at.is_(None),
        )
        .values(rescan=True, next_sync_at=None)
    )


def downgrade() -> None:
    """Nothing to undo: reading a repository again changes nothing but its entities' locations."""
