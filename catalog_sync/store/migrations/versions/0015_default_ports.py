"""Repository keys without a default port: a source's ``api_url`` is now read as deliveries name their
host, without ``:443`` for https or ``:80`` for http, so a source written ``https://ghe:443/api/v3``
keys its repositories ``github:ghe:ID`` as a push for them names them. Keys stored before carried the
port; left so, the next listing would find every repository of such a source anew, and the old rows,
still holding the entities, would make each new one a conflict. Rewritten here instead, each keeps
its entities, their uids and their history. The source's stored target follows at its next listing.

Revision ID: 0015_default_ports
Revises: 0014_listing_requests
Create Date: 2026-12-03 20:45:00
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

revision: str = "0015_default_ports"
down_revision: str | None = "0014_listing_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_PORTS = {"https": 443, "http": 80}
HOSTED = ("github", "gitlab")


def upgrade() -> None:
    """Drop the default port from the keys of the repositories of hosted sources whose API URL names
    it; a key whose new form the same source already holds is left as it is."""
    conn = op.get_bind()
    sources = sa.table("sources", sa.column("id"), sa.column("type"), sa.column("target"))
    repositories = sa.table("repositories", sa.column("id"), sa.column("source_id"), sa.column("key"))
    for source in conn.execute(sa.select(sources).where(sources.c.type.in_(HOSTED))).all():
        try:
            parts = urlsplit(source.target)
            port = parts.port
        except ValueError:
            continue
        if port is None or port != DEFAULT_PORTS.get(parts.scheme.lower()):
            continue
        host = (parts.hostname or "").lower()
        host = f"[{host}]" if ":" in host else host
        # GitLab's keys carried the port as a number, GitHub's as written (``:0443``).
        written = parts.netloc.rpartition("@")[2].lower()
        olds = (f"{source.type}:{host}:{port}:", f"{source.type}:{written}:")
        new = f"{source.type}:{host}:"
        rows = conn.execute(
            sa.select(repositories.c.id, repositories.c.key).where(repositories.c.source_id == source.id)
        ).all()
        held = {row.key for row in rows}
        for row in rows:
            old = next((old for old in olds if row.key.startswith(old)), None)
            if old is not None and (rekeyed := new + row.key[len(old) :]) not in held:
                conn.execute(sa.update(repositories).where(repositories.c.id == row.id).values(key=rekeyed))


def downgrade() -> None:
    """Nothing to undo: a key without the default port names the same repository."""
