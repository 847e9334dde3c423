"""Loading what evaluation reads, in bulk: entities (light part, body), relation lists, facts, parts.

The scorer decides what a ``CatalogView`` lacks (``catalog_sync.scoring.fill``); these functions only
answer for a list of keys or ids, each with a few ``IN (...)`` queries however long the list.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, or_, select

from catalog_sync.store.filters import EntityFilter
from catalog_sync.store.scoring.rows import as_utc, chunks
from catalog_sync.store.scoring.types import EdgeRow, Meta
from catalog_sync.store.sqlfilters import filter_clause, matching_ids
from catalog_sync.store.tables import entities, relations, repositories, search
from catalog_sync.store.tables import sources as source_table

META_COLUMNS = (
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


def meta_of(row: Any) -> Meta:
    """The ``Meta`` of a row selected with ``META_COLUMNS``."""
    fields = {name: value for name, value in row._mapping.items() if name != "body"}
    fields["orphaned"] = bool(fields["orphaned"])
    fields["descriptor_changed_at"] = as_utc(fields["descriptor_changed_at"])
    return Meta(**fields)


def load_subjects(conn: Connection, ids: Sequence[int]) -> list[tuple[Meta, dict[str, Any]]]:
    """The entities to score (light part and body) by id."""
    found: list[tuple[Meta, dict[str, Any]]] = []
    for part in chunks(ids):
        rows = conn.execute(select(*META_COLUMNS, entities.c.body).where(entities.c.id.in_(part))).all()
        found += [(meta_of(row), json.loads(row.body)) for row in rows]
    return found


def load_entities(
    conn: Connection, keys: Sequence[str], *, body: bool
) -> list[tuple[Meta, dict[str, Any] | None]]:
    """The entities of these ref keys (with their bodies when asked); absent keys are left out."""
    columns = (*META_COLUMNS, entities.c.body) if body else META_COLUMNS
    found: list[tuple[Meta, dict[str, Any] | None]] = []
    for part in chunks(keys):
        for row in conn.execute(select(*columns).where(entities.c.ref_key.in_(part))):
            found.append((meta_of(row), json.loads(row.body) if body else None))
    return found


def load_edges(conn: Connection, keys: Sequence[str], relation_type: str | None) -> list[EdgeRow]:
    """The relation rows from these keys, of one type (every type when None)."""
    columns = (
        relations.c.source_key,
        relations.c.type,
        relations.c.target_key,
        relations.c.originating_entity_id,
    )
    found: list[EdgeRow] = []
    for part in chunks(sorted(set(keys))):
        query = select(*columns).where(relations.c.source_key.in_(part))
        if relation_type is not None:
            query = query.where(relations.c.type == relation_type)
        found += [(r[0], r[1], r[2], r[3]) for r in conn.execute(query)]
    return found


def load_facts(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any] | None]:
    """Repository facts by id; None for a repository without facts, or gone."""
    found: dict[int, dict[str, Any] | None] = dict.fromkeys(ids)
    for part in chunks(ids):
        query = select(repositories.c.id, repositories.c.facts).where(repositories.c.id.in_(part))
        for row in conn.execute(query):
            found[row.id] = json.loads(row.facts) if row.facts else None
    return found


_SERVING = ("product", "component")
_GROUPS = ("capability:%", "domain:%", "system:%")


def load_parts(conn: Connection, keys: Sequence[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """For each key, one live product or component it ``hasPart``, and its group targets, in SQL.

    The product is found by a probe that stops at the first live one, so a capability served by
    hundreds of products costs one index seek, not hundreds of rows.
    """
    serving: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
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
        for row in conn.execute(select(sources.c.key, first_live)):
            if row[1] is not None:
                serving[row[0]] = row[1]
        groups_query = select(relations.c.source_key, relations.c.target_key).where(
            relations.c.source_key.in_(part),
            relations.c.type == "hasPart",
            or_(*(relations.c.target_key.like(pattern) for pattern in _GROUPS)),
        )
        for row in conn.execute(groups_query):
            groups.setdefault(row.source_key, []).append(row.target_key)
    return serving, groups


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


def catalog_scorecards(conn: Connection) -> list[tuple[str, dict[str, Any], str | None]]:
    """The live ``kind: Scorecard`` entities of the catalog: ``(ref key, body, source name)``; the
    source is None for an entity whose repository is gone."""
    return catalog_of_kind(conn, "scorecard")


def catalog_of_kind(conn: Connection, kind: str) -> list[tuple[str, dict[str, Any], str | None]]:
    """The live entities of one kind (lower case) with their source's name, for the restricted kinds."""
    query = (
        select(entities.c.ref_key, entities.c.body, source_table.c.name.label("source"))
        .select_from(
            entities.outerjoin(repositories, repositories.c.id == entities.c.repository_id).outerjoin(
                source_table, source_table.c.id == repositories.c.source_id
            )
        )
        .where(entities.c.kind == kind, entities.c.orphaned_at.is_(None))
    )
    return [(row.ref_key, json.loads(row.body), row.source) for row in conn.execute(query)]
