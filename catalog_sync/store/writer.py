"""Applies reconcile plans to the database: many repositories' plans in one transaction, in bulk.

Grouping plans into one transaction keeps each repository all-or-nothing (a killed pass loses at most
the group, which the next pass redoes) while turning ten statements per repository into ten per group,
which is what makes a full sync of ten thousand repositories a matter of seconds.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from catalog_sync.descriptors import derive_relations
from catalog_sync.descriptors.problems import Problem
from catalog_sync.descriptors.relations import COUNTERPARTS
from catalog_sync.model import Entity, EntityRef, Relation
from catalog_sync.plans import EntityWrite, KnownEntity, Plan, ProblemRow, mark_orphan
from catalog_sync.searchrows import build_search_rows
from catalog_sync.sources.urls import redact
from catalog_sync.store.fitting import refuse_oversized, storable_relations
from catalog_sync.store.limits import fit
from catalog_sync.store.sync_store import Applied
from catalog_sync.store.tables import descriptor_files, entities, problems, relations, repositories, search

REPLACED_CATEGORIES = ("descriptor", "conflict", "fetch")
"""Problem categories a repository's successful pass replaces; ``removal`` belongs to the source."""


def load_known(
    conn: Connection, repository_ids: Sequence[int], ref_keys: Iterable[str]
) -> tuple[dict[int, dict[str, KnownEntity]], dict[str, KnownEntity]]:
    """The entities the given repositories hold now, and those other repositories hold under ``ref_keys``."""
    own: dict[int, dict[str, KnownEntity]] = {rid: {} for rid in repository_ids}
    others: dict[str, KnownEntity] = {}
    columns = (
        entities.c.id,
        entities.c.ref_key,
        entities.c.repository_id,
        entities.c.path,
        entities.c.content_hash,
        entities.c.orphaned_at,
        entities.c.created_at,
        repositories.c.removed_at,
    )
    base = select(*columns).select_from(
        entities.outerjoin(repositories, entities.c.repository_id == repositories.c.id)
    )
    if repository_ids:
        for row in conn.execute(base.where(entities.c.repository_id.in_(list(repository_ids)))):
            own[row.repository_id][row.ref_key] = _known(row)
    keys = sorted(set(ref_keys))
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for row in conn.execute(base.where(entities.c.ref_key.in_(chunk))):
            if row.repository_id not in own:
                others[row.ref_key] = _known(row)
    return own, others


def _known(row: Any) -> KnownEntity:
    return KnownEntity(
        id=row.id,
        ref_key=row.ref_key,
        repository_id=row.repository_id,
        path=row.path,
        content_hash=row.content_hash,
        orphaned_at=row.orphaned_at,
        repository_removed=row.removed_at is not None,
        created_at=_aware(row.created_at),
    )


def _aware(value: datetime | None) -> datetime | None:
    """A stored time as UTC: SQLite gives it back without its zone."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _lifecycle(value: Any) -> str | None:
    """The lifecycle as the metrics group by it: lower-cased, or None when the kind has none."""
    return fit(entities.c.lifecycle, value.lower()) if isinstance(value, str) and value else None


def _entity_values(write: EntityWrite, repository_id: int, now: datetime) -> dict[str, Any]:
    ready = write.prepared
    ref = ready.entity.ref
    return {
        "ref_key": ref.key,
        "kind": ref.kind,
        "namespace": ref.namespace.lower(),
        "name": ref.name,
        "lifecycle": _lifecycle(ready.entity.spec.get("lifecycle")),
        "repository_id": repository_id,
        "path": write.path,
        "line": write.line,
        "body": ready.body,
        "content_hash": ready.content_hash,
        "etag": uuid.uuid4().hex,
        "search_text": ready.search_text,
        "orphaned_at": None,
        "descriptor_changed_at": write.descriptor_changed_at,
        "updated_at": now,
    }


def _relation_rows(entity_id: int, rels: Iterable[Relation]) -> list[tuple[int, str, str, str]]:
    rows = []
    for rel in rels:
        for edge in (rel, rel.inverse()):
            rows.append((entity_id, edge.source.key, edge.type, edge.target.key))
    return rows


def _search_rows(entity_id: int, rows: Iterable[tuple[str, str | None, str | None]]) -> list[tuple[Any, ...]]:
    return [(entity_id, k, v, o) for k, v, o in rows]


_INSERT_SEARCH = "INSERT INTO search (entity_id, key, value, original_value) VALUES ({0}, {0}, {0}, {0})"
_INSERT_RELATION = (
    "INSERT INTO relations (originating_entity_id, source_key, type, target_key) VALUES ({0}, {0}, {0}, {0})"
)


def insert_rows(conn: Connection, template: str, rows: list[tuple[Any, ...]]) -> None:
    """Bulk-insert plain tuples through the driver's executemany: these tables take most of a full
    sync's rows, and skipping per-row parameter processing roughly halves what they cost."""
    if rows:
        marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        conn.exec_driver_sql(template.format(marker), rows)


def apply_plans(
    conn: Connection,
    plans: Sequence[Plan],
    *,
    now: datetime,
    interval_seconds: int,
    exists: Callable[[EntityRef], bool],
) -> Applied:
    """Write every plan, and mark their repositories synced; returns what changed.

    ``exists`` answers whether an entity is in the catalog (used to resolve a bare owner to a Team
    or a Group); the caller keeps it current across groups. Relations elsewhere that name a Team,
    Group, Capability or Domain written here follow it (``repoint_counterparts``), in the same
    transaction, so no caller can write one and leave them pointing at its counterpart.
    """
    for plan in plans:
        refuse_oversized(plan)
    counts = Applied()
    entity_ids: dict[str, int] = {}
    search_rows: list[tuple[Any, ...]] = []
    relation_rows: list[tuple[Any, ...]] = []
    rewritten: list[int] = []

    updates = [(p, w) for p in plans for w in p.writes if w.existing_id is not None]
    if updates:
        stmt = update(entities).where(entities.c.id == bindparam("_id"))
        values = []
        for plan, write in updates:
            row = _entity_values(write, plan.repository_id, now)
            row["_id"] = write.existing_id
            values.append(row)
            entity_ids[row["ref_key"]] = int(write.existing_id or 0)
            rewritten.append(int(write.existing_id or 0))
        conn.execute(stmt, values)
        counts.updated = len(updates)
        claimed = [int(w.existing_id or 0) for _, w in updates if w.claimed]
        if claimed:  # held from now on, as a new entity would be (``reconcile.CLAIM_RULE``)
            conn.execute(update(entities).where(entities.c.id.in_(claimed)).values(created_at=now))

    inserts = [(p, w) for p in plans for w in p.writes if w.existing_id is None]
    if inserts:
        values = []
        for plan, write in inserts:
            row = _entity_values(write, plan.repository_id, now)
            row["uid"] = str(uuid.uuid4())
            row["created_at"] = now
            values.append(row)
        result = conn.execute(
            insert(entities).returning(entities.c.id, entities.c.ref_key, sort_by_parameter_order=True),
            values,
        )
        for inserted in result:
            entity_ids[inserted.ref_key] = inserted.id
        counts.added = len(inserts)

    if rewritten:
        conn.execute(delete(search).where(search.c.entity_id.in_(rewritten)))
        conn.execute(delete(relations).where(relations.c.originating_entity_id.in_(rewritten)))
    for plan in plans:
        for write in plan.writes:
            entity = write.prepared.entity
            entity_id = entity_ids[entity.ref.key]
            search_rows.extend(_search_rows(entity_id, write.prepared.search_rows))
            rels, refused = storable_relations(derive_relations(entity, exists))
            relation_rows.extend(_relation_rows(entity_id, rels))
            plan.problems.extend(_relation_problem(write, reason) for reason in refused)

    orphan_ids = [i for p in plans for i in p.orphan_ids]
    if orphan_ids:
        counts.orphaned = orphan_entities(conn, orphan_ids, now, search_rows)
    insert_rows(conn, _INSERT_SEARCH, search_rows)
    insert_rows(conn, _INSERT_RELATION, relation_rows)

    _replace_problems(conn, plans, entity_ids)
    _replace_descriptor_files(conn, plans)
    conn.execute(
        update(repositories).where(repositories.c.id == bindparam("_id")),
        [_repository_synced(p, now, interval_seconds) for p in plans],
    )
    counts.taken_over = _reread_losers(conn, plans, now)
    counts.unchanged = sum(len(p.unchanged_ids) for p in plans)
    counts.changed_ids = sorted({*entity_ids.values(), *orphan_ids})
    repoint_counterparts(
        conn,
        {
            (w.prepared.entity.namespace, w.prepared.entity.name)
            for p in plans
            for w in p.writes
            if w.prepared.entity.kind.lower() in COUNTERPARTS
        },
    )
    return counts


def orphan_entities(
    conn: Connection, ids: Sequence[int], now: datetime, search_rows: list[tuple[Any, ...]] | None = None
) -> int:
    """Mark entities as orphans (annotation and time), keeping them and their relations.

    When ``search_rows`` is given the new search rows are appended to it for the caller to insert
    with its own; otherwise they are written here.
    """
    pending: list[tuple[Any, ...]] = [] if search_rows is None else search_rows
    rows = conn.execute(
        select(entities.c.id, entities.c.body).where(
            entities.c.id.in_(list(ids)), entities.c.orphaned_at.is_(None)
        )
    ).all()
    if not rows:
        return 0
    values = []
    for row in rows:
        body = mark_orphan(json.loads(row.body))
        values.append(
            {
                "_id": row.id,
                "body": json.dumps(body, separators=(",", ":")),
                "orphaned_at": now,
                "updated_at": now,
                "etag": uuid.uuid4().hex,
            }
        )
        pending.extend(_search_rows(row.id, build_search_rows(body)))
    conn.execute(delete(search).where(search.c.entity_id.in_([r.id for r in rows])))
    conn.execute(update(entities).where(entities.c.id == bindparam("_id")), values)
    if search_rows is None:
        insert_rows(conn, _INSERT_SEARCH, pending)
    return len(rows)


def _reread_losers(conn: Connection, plans: Sequence[Plan], now: datetime) -> int:
    """Make the repositories whose entities were taken over (``reconcile.CLAIM_RULE``) due for a full
    read now, so their owners see the conflict; answers how many."""
    taken = sorted({rid for p in plans for rid in p.taken_from} - {p.repository_id for p in plans})
    if taken:
        conn.execute(
            update(repositories)
            .where(repositories.c.id.in_(taken), repositories.c.removed_at.is_(None))
            .values(rescan=True, next_sync_at=now)
        )
    return len(taken)


def _relation_problem(write: EntityWrite, reason: str) -> ProblemRow:
    problem = Problem(path=write.path, line=write.line, severity="error", message=reason)
    return ProblemRow("descriptor", problem, entity_key=write.prepared.entity.ref.key)


def _replace_problems(conn: Connection, plans: Sequence[Plan], entity_ids: dict[str, int]) -> None:
    repo_ids = [p.repository_id for p in plans]
    conn.execute(
        delete(problems).where(
            problems.c.repository_id.in_(repo_ids), problems.c.category.in_(REPLACED_CATEGORIES)
        )
    )
    rows = []
    for plan in plans:
        for row in plan.problems:
            problem = row.problem
            attach = row.entity_id
            if attach is None and row.entity_key and row.category == "descriptor":
                attach = entity_ids.get(row.entity_key)
            rows.append(
                {
                    "repository_id": plan.repository_id,
                    "entity_id": attach,
                    "category": row.category,
                    "severity": problem.severity,
                    "path": fit(problems.c.path, problem.path),
                    "line": problem.line,
                    "column": problem.column,
                    "field": fit(problems.c.field, problem.field),
                    "message": fit(problems.c.message, redact(problem.message)),
                    "entity_ref": fit(problems.c.entity_ref, problem.entity_ref),
                }
            )
    if rows:
        conn.execute(insert(problems), rows)


def _replace_descriptor_files(conn: Connection, plans: Sequence[Plan]) -> None:
    conn.execute(
        delete(descriptor_files).where(descriptor_files.c.repository_id.in_([p.repository_id for p in plans]))
    )
    rows = [
        {"repository_id": p.repository_id, "path": path, "blob_sha": sha, "last_changed_at": changed}
        for p in plans
        for path, (sha, changed) in p.descriptor_files.items()
    ]
    if rows:
        conn.execute(insert(descriptor_files), rows)


def _repository_synced(plan: Plan, now: datetime, interval_seconds: int) -> dict[str, Any]:
    return {
        "_id": plan.repository_id,
        "state": "ok",
        "last_commit": plan.commit,
        "last_sync_at": now,
        "last_success_at": now,
        "failures": 0,
        "last_error": None,
        "has_descriptors": plan.has_descriptors,
        "facts": json.dumps(plan.facts, separators=(",", ":"), default=str),
        "next_sync_at": now + timedelta(seconds=interval_seconds),
        "claimed_by": None,
        "claim_expires_at": None,
        "rescan": plan.conflicts > 0,
    }


def repoint_counterparts(conn: Connection, names: Iterable[tuple[str, str]]) -> int:
    """Re-derive the relations that name a Team where only a Group of that name exists (and the like).

    A bare ``owner: payments`` resolves to ``team:payments``, or to ``group:payments`` when only the
    Group exists, when the product is written. The Group may arrive later, or the Team go away;
    ``names`` are the (namespace, name) pairs of team, group, capability and domain entities just
    written or removed, and every entity whose relation to one of them now dangles while its
    counterpart exists is re-derived. Returns how many entities were re-derived.
    """
    keys = {f"{kind}:{ns}/{name}".lower() for ns, name in names for kind in COUNTERPARTS}
    if not keys:
        return 0
    present = set(
        conn.execute(select(entities.c.ref_key).where(entities.c.kind.in_(list(COUNTERPARTS)))).scalars()
    )
    dangling = [k for k in keys if k not in present and _counterpart(k) in present]
    if not dangling:
        return 0
    ids = sorted(
        set(
            conn.execute(
                select(relations.c.originating_entity_id).where(relations.c.target_key.in_(dangling))
            ).scalars()
        )
    )
    if not ids:
        return 0
    rows: list[tuple[Any, ...]] = []
    for row in conn.execute(select(entities.c.id, entities.c.body).where(entities.c.id.in_(ids))):
        entity = Entity.from_dict(json.loads(row.body))
        rels, _ = storable_relations(derive_relations(entity, lambda ref: ref.key in present))
        rows.extend(_relation_rows(row.id, rels))
    conn.execute(delete(relations).where(relations.c.originating_entity_id.in_(ids)))
    insert_rows(conn, _INSERT_RELATION, rows)
    return len(ids)


def _counterpart(key: str) -> str:
    kind, _, rest = key.partition(":")
    return f"{COUNTERPARTS[kind]}:{rest}"
