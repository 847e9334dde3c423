"""Repositories named by an http(s) clone URL ending in ``.git`` read again: their entities'
``backstage.io/managed-by-location`` (and origin) now link a file as ``<repository>/blob/...`` without
the ``.git``, as the hosts name their pages (``https://github.com/acme/pay/blob/main/...``); before, it
was ``<repository>.git/blob/...``. An entity is rewritten only when its repository is read, and a
repository whose commit has not moved is not read: marked here, each is read once more at the next
pass, at its current commit.

Revision ID: 0017_clone_url_locations
Revises: 0016_gitlab_locations
Create Date: 2026-12-04 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_clone_url_locations"
down_revision: str | None = "0016_gitlab_locations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Mark every repository still held whose URL is an http(s) one ending in ``.git``, due at once."""
    repositories = sa.table(
        "repositories",
        sa.column("url", sa.String),
        sa.column("removed_at", sa.DateTime(timezone=True)),
        sa.column("rescan", sa.Boolean),
        sa.column("next_sync_at", sa.DateTime(timezone=True)),
    )
    url = sa.func.lower(sa.func.rtrim(repositories.c.url, "/"))
    op.get_bind().execute(
        sa.update(repositories)
        .where(
            sa.or_(url.like("http://%.git"), url.like("https://%.git")),
            repositories.c.removed_at.is_(None),
        )
        .values(rescan=True, next_sync_at=None)
    )


def downgrade() -> None:
    """Nothing to undo: reading a repository again changes nothing but its entities' locations."""
