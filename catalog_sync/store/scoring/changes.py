"""What changed since the last re-score, read from the database itself, not only from one sync pass.

So a pass of another worker, an orphan deleted through the API, a repository removed from its source
or a scorer that failed last time are all noticed:

- an entity changed when its ``etag`` (new at every write and at orphaning) differs from the one
  scored, or it was never scored; it vanished when a scored entity is no longer in the catalog;
- a repository changed when its commit, its having descriptors, or its removal differs from the
  state scored;
- a relation list ``(key, type)`` changed when a changed entity originated one of its rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, and_, or_, select

from catalog_sync.store.scoring.rows import chunks
from catalog_sync.store.scoring.types import ALL_TYPES, Changes
from catalog_sync.store.tables import (
    entities,
    relations,
    repositories,
    scoring_dependencies,
    scoring_repositories,
    scoring_subjects,
)


def find_changes(conn: Connection) -> Changes:
    """Compare the catalog with what was scored (see the module doc)."""
    subjects = scoring_subjects
    changed_query = (
        select(entities.c.id, entities.c.ref_key)
        .select_from(entities.outerjoin(subjects, subjects.c.entity_id == entities.c.id))
        .where(or_(subjects.c.entity_id.is_(None), subjects.c.etag != entities.c.etag))
    )
    changed = {row.id: row.ref_key for row in conn.execute(changed_query)}
    vanished_query = (
        select(subjects.c.entity_id, subjects.c.ref_key)
        .select_from(subjects.outerjoin(entities, entities.c.id == subjects.c.entity_id))
        .where(entities.c.id.is_(None))
    )
    vanished = {row.entity_id: row.ref_key for row in conn.execute(vanished_query)}
    scored = scoring_repositories
    repo_query = (
        select(repositories.c.id)
        .select_from(repositories.outerjoin(scored, scored.c.repository_id == repositories.c.id))
        .where(
            or_(
                scored.c.repository_id.is_(None),
                scored.c.last_commit.is_distinct_from(repositories.c.last_commit),
                scored.c.has_descriptors.is_distinct_from(repositories.c.has_descriptors),
                scored.c.removed != repositories.c.removed_at.is_not(None),
            )
        )
    )
    gone_query = (
        select(scored.c.repository_id)
        .select_from(scored.outerjoin(repositories, repositories.c.id == scored.c.repository_id))
        .where(repositories.c.id.is_(None))
    )
    repos = sorted({*conn.execute(repo_query).scalars(), *conn.execute(gone_query).scalars()})
    return Changes(changed, vanished, repos)


def changed_lists(conn: Connection, entity_ids: Iterable[int]) -> set[tuple[str, str]]:
    """The relation lists ``(source key, type)`` holding a row that one of these entities originated."""
    found: set[tuple[str, str]] = set()
    for part in chunks(sorted(entity_ids)):
        query = (
            select(relations.c.source_key, relations.c.type)
            .where(relations.c.originating_entity_id.in_(part))
            .distinct()
        )
        found.update((row.source_key, row.type) for row in conn.execute(query))
    return found


def dependents(conn: Connection, keys: set[str], lists: set[tuple[str, str]]) -> set[int]:
    """Scored entities that read a changed entity (``keys``, any part) or a changed relation list."""
    deps = scoring_dependencies
    found: set[int] = set()
    for part in chunks(sorted(keys)):
        found.update(conn.execute(select(deps.c.entity_id).where(deps.c.key.in_(part)).distinct()).scalars())
    types = sorted({relation_type for _, relation_type in lists} | {ALL_TYPES})
    for part in chunks(sorted({key for key, _ in lists} - keys)):
        query = select(deps.c.entity_id, deps.c.key, deps.c.part).where(
            deps.c.key.in_(part), deps.c.part.in_(types)
        )
        for row in conn.execute(query):
            if row.part == ALL_TYPES or (row.key, row.part) in lists:
                found.add(row.entity_id)
    return found


def expired_subjects(conn: Connection, now: datetime) -> set[int]:
    """Entities whose result depends on time and may have changed by ``now``."""
    query = select(scoring_subjects.c.entity_id).where(
        and_(scoring_subjects.c.valid_until.is_not(None), scoring_subjects.c.valid_until <= now)
    )
    return set(conn.execute(query).scalars())
