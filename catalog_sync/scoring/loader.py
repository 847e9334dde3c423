"""The few bulk queries scoring runs: filling a ``CatalogView``, and finding what changed since last time.

What changed is read from the database itself, not only from what one sync pass says, so a pass of
another worker, an orphan deleted through the API, a repository removed from its source or a scorer
that failed last time are all noticed:

- an entity changed when its ``etag`` (new at every write and at orphaning) differs from the one
  scored, or it was never scored; it vanished when a scored entity is no longer in the catalog;
- a repository changed when its commit, its having descriptors, or its removal differs from the
  state scored;
- a relation list ``(key, type)`` changed when a changed entity originated one of its rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, and_, or_, select

from catalog_sync.scoring.view import ALL_TYPES, REPOSITORY_PREFIX, CatalogView, Meta, Need
from catalog_sync.store.filters import EntityFilter
from catalog_sync.store.sqlfilters import filter_clause, matching_ids
from catalog_sync.store.tables import (
    entities,
    relations,
    repositories,
    scoring_dependencies,
    scoring_repositories,
    scoring_subjects,
    search,
)

CHUNK = 900
"""Values per ``IN (...)`` list: below SQLite's oldest limit of 999 bound parameters."""

T = TypeVar("T")


def chunks(values: Sequence[T] | Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Split values into lists small enough for one ``IN (...)``."""
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_META_COLUMNS = (
    # Labelled as ``Meta``'s fields, so a row becomes a ``Meta`` without naming each field twice.
    entities.c.id,
    entities.c.ref_key.label("key"),
    entities.c.kind,
    entities.c.etag,
    entities.c.orphaned_at.is_not(None).label("orphaned"),
    entities.c.repository_id,
    entities.c.path,
    entities.c.descriptor_changed_at,
)


def _meta(row: Any) -> Meta:
    fields = {name: value for name, value in row._mapping.items() if name != "body"}
    fields["orphaned"] = bool(fields["orphaned"])
    fields["descriptor_changed_at"] = _utc(fields["descriptor_changed_at"])
    return Meta(**fields)


def fill(conn: Connection, view: CatalogView, need: Need) -> None:
    """Load everything ``need`` names that the view does not hold yet, in bulk."""
    edges = sorted(pair for pair in need.edges if not view.has_edges(*pair))
    with_body = {key for key in need.bodies if not view.has_body(key)}
    light = ({*need.metas, *(key for key, _ in edges)} - with_body) - view.metas.keys() - view.absent
    _load_entities(conn, view, sorted(light), body=False)
    _load_entities(conn, view, sorted(with_body), body=True)
    _load_edges(conn, view, edges)
    _load_facts(conn, view, sorted(r for r in need.repositories if r not in view.repositories))
    _load_parts(conn, view, sorted(k for k in need.parts if k not in view.parts))


def load_subjects(conn: Connection, view: CatalogView, ids: Sequence[int]) -> list[str]:
    """Load the entities to score (light part and body) by id; answer their keys in order."""
    keys: list[str] = []
    for part in chunks(ids):
        rows = conn.execute(select(*_META_COLUMNS, entities.c.body).where(entities.c.id.in_(part))).all()
        for row in rows:
            view.add_meta(_meta(row), json.loads(row.body))
            keys.append(row.key)
    return keys


def _load_entities(conn: Connection, view: CatalogView, keys: list[str], *, body: bool) -> None:
    columns = (*_META_COLUMNS, entities.c.body) if body else _META_COLUMNS
    for part in chunks(keys):
        found = set()
        for row in conn.execute(select(*columns).where(entities.c.ref_key.in_(part))):
            view.add_meta(_meta(row), json.loads(row.body) if body else None)
            found.add(row.key)
        view.mark_absent(k for k in part if k not in found)


def _load_edges(conn: Connection, view: CatalogView, pairs: list[tuple[str, str]]) -> None:
    by_type: dict[str, list[str]] = {}
    for key, relation_type in pairs:
        by_type.setdefault(relation_type, []).append(key)
    columns = (
        relations.c.source_key,
        relations.c.type,
        relations.c.target_key,
        relations.c.originating_entity_id,
    )
    for relation_type, keys in by_type.items():
        for part in chunks(sorted(set(keys))):
            query = select(*columns).where(relations.c.source_key.in_(part))
            if relation_type != ALL_TYPES:
                query = query.where(relations.c.type == relation_type)
            rows = [(r[0], r[1], r[2], r[3]) for r in conn.execute(query)]
            view.add_edges([(key, relation_type) for key in part], rows)


def _load_facts(conn: Connection, view: CatalogView, ids: list[int]) -> None:
    for part in chunks(ids):
        found = set()
        for row in conn.execute(
            select(repositories.c.id, repositories.c.facts).where(repositories.c.id.in_(part))
        ):
            view.repositories[row.id] = json.loads(row.facts) if row.facts else None
            found.add(row.id)
        for missing in set(part) - found:
            view.repositories[missing] = None


_SERVING = ("product", "component")
_GROUPS = ("capability:%", "domain:%", "system:%")


def _load_parts(conn: Connection, view: CatalogView, keys: list[str]) -> None:
    """For each key, one live product or component it ``hasPart``, and its group targets, in SQL.

    The product is found by a probe that stops at the first live one, so a capability served by
    hundreds of products costs one index seek, not hundreds of rows.
    """
    for part in chunks(keys):
        sources = (
            select(relations.c.source_key.label("key"))
            .where(relations.c.source_key.in_(part), relations.c.type == "hasPart")
            .distinct()
            .subquery()
        )
        target = entities.alias("target")
        edge = relations.alias("edge")
        first_live = (
            select(edge.c.target_key)
            .select_from(edge.join(target, target.c.ref_key == edge.c.target_key))
            .where(
                edge.c.source_key == sources.c.key,
                edge.c.type == "hasPart",
                target.c.kind.in_(_SERVING),
                target.c.orphaned_at.is_(None),
            )
            .limit(1)
            .scalar_subquery()
        )
        serving = {
            row[0]: row[1] for row in conn.execute(select(sources.c.key, first_live)) if row[1] is not None
        }
        groups_query = select(relations.c.source_key, relations.c.target_key).where(
            relations.c.source_key.in_(part),
            relations.c.type == "hasPart",
            or_(*(relations.c.target_key.like(pattern) for pattern in _GROUPS)),
        )
        groups: dict[str, list[str]] = {}
        for row in conn.execute(groups_query):
            groups.setdefault(row.source_key, []).append(row.target_key)
        view.add_parts(part, serving, groups)


def applicable_ids(conn: Connection, entity_filter: EntityFilter, ids: Sequence[int] | None) -> set[int]:
    """The entities a scorecard's ``appliesTo`` selects, among ``ids`` (all when None).

    Among given ids, each condition is one seek per entity in ``search (entity_id, key, value)``,
    narrowing the candidates condition by condition; the filter's semantics are ``sqlfilters``'.
    """
    if ids is None:
        selected = matching_ids(conn, entity_filter)
        assert selected is not None
        return set(conn.execute(select(selected.subquery().c.entity_id)).scalars())
    found: set[int] = set()
    for part in chunks(ids):
        for alternative in entity_filter.alternatives:
            if any(condition.is_relation for condition in alternative.conditions):
                single = EntityFilter((alternative,))
                query = select(entities.c.id).where(entities.c.id.in_(part), filter_clause(single))
                found.update(conn.execute(query).scalars())
                continue
            candidates = set(part)
            for condition in alternative.conditions:
                query = select(search.c.entity_id).where(
                    search.c.entity_id.in_(sorted(candidates)), search.c.key == condition.key
                )
                if condition.values:
                    query = query.where(search.c.value.in_(condition.values))
                candidates = set(conn.execute(query.distinct()).scalars())
                if not candidates:
                    break
            found |= candidates
    return found


# -- what changed --------------------------------------------------------------------------------------


@dataclass
class Changes:
    """What changed in the catalog since it was last scored."""

    entities: dict[int, str]
    """Changed or new entities: id -> ref key."""
    vanished: dict[int, str]
    """Scored entities no longer in the catalog: id -> ref key."""
    repositories: list[int]
    """Repositories whose commit, descriptors or removal changed (or that are new, or gone)."""


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


def repository_keys(ids: Iterable[int]) -> set[str]:
    """Dependency keys of repositories."""
    return {f"{REPOSITORY_PREFIX}{rid}" for rid in ids}
