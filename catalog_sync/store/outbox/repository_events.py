"""The repository event: a repository whose read fails when the one before did not.

Read just before the failure is recorded, in its transaction. The event names the repository's first
entity and that entity's owner, so a filtered channel and the owning team can be told.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from catalog_sync.sources.urls import redact
from catalog_sync.store.outbox.types import Event
from catalog_sync.store.scoring.rows import chunks
from catalog_sync.store.tables import entities, repositories, scoring_subjects, sources

MAX_ERROR = 1000
"""Characters of a repository's error carried by its event (the repository page shows all of it)."""


def failing_events(conn: Connection, failures: Sequence[tuple[int, str]]) -> list[Event]:
    """``repository_failing`` for each repository whose failure is its first in a row (call before
    recording the failures). The event names the repository's first entity and its owner, if any."""
    ids = sorted({rid for rid, _ in failures})
    messages = dict(failures)
    fresh: dict[int, tuple[str, str]] = {}
    for part in chunks(ids):
        query = (
            select(
                repositories.c.id, repositories.c.name, repositories.c.state, sources.c.name.label("source")
            )
            .select_from(repositories.join(sources, sources.c.id == repositories.c.source_id))
            .where(repositories.c.id.in_(part))
        )
        for row in conn.execute(query):
            if row.state not in ("failing", "stale"):
                fresh[row.id] = (row.name, row.source)
    if not fresh:
        return []
    first: dict[int, tuple[int, str, str | None]] = {}
    for part in chunks(sorted(fresh)):
        query = (
            select(entities.c.repository_id, entities.c.id, entities.c.ref_key, scoring_subjects.c.owner)
            .select_from(entities.outerjoin(scoring_subjects, scoring_subjects.c.entity_id == entities.c.id))
            .where(entities.c.repository_id.in_(part))
            .order_by(entities.c.repository_id, entities.c.ref_key)
        )
        for row in conn.execute(query):
            first.setdefault(row.repository_id, (row.id, row.ref_key, row.owner or None))
    events = []
    for rid, (name, source) in sorted(fresh.items()):
        entity_id, ref, owner = first.get(rid, (None, None, None))
        events.append(
            Event(
                type="repository_failing",
                subject=f"repository:{rid}",
                entity_id=entity_id,
                entity_ref=ref,
                owner=owner,
                summary=f"repository {name} of source {source} cannot be read; its entities are kept",
                detail={
                    "repository": name,
                    "repositoryId": rid,
                    "source": source,
                    "error": redact(messages[rid])[:MAX_ERROR],
                },
            )
        )
    return events
