"""Entities as the read side returns them, and their Backstage JSON form.

An entity is spread over four tables (its row, its search rows, the relations it is the source of,
the problems attached to it); this module gathers a page of them with one query per table, never one
per entity, and turns each into the JSON Backstage's clients expect: the envelope with
``metadata.uid``/``etag``, ``relations`` and, for processing errors, ``status.items``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, exists, literal, select

from catalog_sync.model import ORPHAN_ANNOTATION
from catalog_sync.store.tables import entities, problems, relations

ENTITY_COLUMNS = (
    entities.c.id,
    entities.c.uid,
    entities.c.ref_key,
    entities.c.body,
    entities.c.etag,
    entities.c.repository_id,
    entities.c.path,
    entities.c.line,
    entities.c.orphaned_at,
    exists(select(literal(1)).where(problems.c.entity_id == entities.c.id)).label("has_problems"),
)
"""The columns a ``StoredEntity`` is built from; select these to use ``load_details``.

``has_problems`` lets ``load_details`` skip the problems query for a page without any (the usual case).
"""

_CHUNK = 500
_PROCESSING_ERROR = "backstage.io/catalog-processing"


@dataclass(frozen=True)
class StoredProblem:
    """A problem attached to an entity; the API shows it as one of Backstage's ``status.items``."""

    category: str
    severity: str
    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None
    entity_ref: str | None = None


@dataclass
class StoredEntity:
    """One catalog entity with everything the API answers about it."""

    id: int
    uid: str
    ref_key: str
    body: dict[str, Any]
    etag: str
    repository_id: int | None
    path: str | None
    line: int | None
    orphaned_at: datetime | None
    relations: list[tuple[str, str]] = field(default_factory=list)
    problems: list[StoredProblem] = field(default_factory=list)
    may_have_problems: bool = field(default=True, repr=False, compare=False)

    def to_entity_dict(self) -> dict[str, Any]:
        """The entity as Backstage serves it, so ``@backstage/catalog-client`` reads it unchanged."""
        entity = dict(self.body)
        metadata = dict(entity.get("metadata") or {})
        metadata["uid"] = self.uid
        metadata["etag"] = self.etag
        if self.orphaned_at is not None:
            annotations = dict(metadata.get("annotations") or {})
            annotations.setdefault(ORPHAN_ANNOTATION, "true")
            metadata["annotations"] = annotations
        entity["metadata"] = metadata
        entity["relations"] = [{"type": kind, "targetRef": target} for kind, target in self.relations]
        if self.problems:
            entity["status"] = {"items": [_status_item(problem) for problem in self.problems]}
        return entity


def entity_from_row(row: Row[*tuple[Any, ...]]) -> StoredEntity:
    """Build an entity (without relations and problems) from a row of ``ENTITY_COLUMNS``."""
    return StoredEntity(
        id=row.id,
        uid=row.uid,
        ref_key=row.ref_key,
        body=json.loads(row.body),
        etag=row.etag,
        repository_id=row.repository_id,
        path=row.path,
        line=row.line,
        orphaned_at=row.orphaned_at,
        may_have_problems=bool(row.has_problems),
    )


def load_details(
    connection: Connection,
    items: Sequence[StoredEntity],
    *,
    with_relations: bool = True,
    with_problems: bool = True,
) -> None:
    """Fill in relations and problems of a batch of entities: one query per table for the batch."""
    if not items:
        return
    if with_relations:
        by_ref = {item.ref_key: item for item in items}
        for chunk in _chunks(list(by_ref)):
            rows = connection.execute(
                select(relations.c.source_key, relations.c.type, relations.c.target_key)
                .where(relations.c.source_key.in_(chunk))
                .distinct()
                .order_by(relations.c.source_key, relations.c.type, relations.c.target_key)
            )
            for source_key, kind, target_key in rows:
                by_ref[source_key].relations.append((kind, target_key))
    if with_problems:
        by_id = {item.id: item for item in items if item.may_have_problems}
        for id_chunk in _chunks(list(by_id)):
            problem_rows = connection.execute(
                select(problems).where(problems.c.entity_id.in_(id_chunk)).order_by(problems.c.id)
            )
            for row in problem_rows:
                by_id[row.entity_id].problems.append(
                    StoredProblem(
                        category=row.category,
                        severity=row.severity,
                        message=row.message,
                        path=row.path,
                        line=row.line,
                        column=row.column,
                        field=row.field,
                        entity_ref=row.entity_ref,
                    )
                )


def needs(fields: Sequence[str] | None, top_level: str) -> bool:
    """Whether a field list asks for (part of) a top-level key, so unused details are not loaded."""
    if fields is None:
        return True
    return any(field == top_level or field.startswith(top_level + ".") for field in fields)


def project_fields(entity: Mapping[str, Any], fields: Sequence[str] | None) -> dict[str, Any]:
    """Keep only the named dotted paths of an entity (Backstage's ``fields`` parameter).

    Keys that contain dots themselves (annotations such as ``backstage.io/orphan``) are found by
    trying the longest existing key at each level. A path that does not exist is left out; a path
    that crosses a list is applied to each element (elements without it become empty objects, so
    several such paths line up).
    """
    if fields is None:
        return dict(entity)
    output: dict[str, Any] = {}
    for field_path in fields:
        found, value = _pick(entity, field_path.split("."))
        if found:
            _merge(output, value)
    return output


def _pick(node: Any, parts: list[str]) -> tuple[bool, Any]:
    """Return ``(found, projection)`` of ``parts`` under ``node``, the projection shaped like ``node``."""
    if not parts:
        return True, node
    if isinstance(node, list):
        results = [_pick(item, parts) for item in node]
        if not any(found for found, _ in results):
            return False, None
        return True, [value if found else {} for found, value in results]
    if not isinstance(node, Mapping):
        return False, None
    for cut in range(1, len(parts) + 1):
        key = ".".join(parts[:cut])
        if key in node:
            found, value = _pick(node[key], parts[cut:])
            if found:
                return True, {key: value}
    return False, None


def _merge(target: dict[str, Any], addition: Mapping[str, Any]) -> None:
    for key, value in addition.items():
        existing = target.get(key)
        if isinstance(existing, dict) and isinstance(value, Mapping):
            _merge(existing, value)
        elif isinstance(existing, list) and isinstance(value, list) and len(existing) == len(value):
            for index, (old, new) in enumerate(zip(existing, value, strict=True)):
                if isinstance(old, dict) and isinstance(new, Mapping):
                    _merge(old, new)
                else:
                    existing[index] = new
        else:
            target[key] = value


def _status_item(problem: StoredProblem) -> dict[str, Any]:
    name = "ConflictError" if problem.category == "conflict" else "InputError"
    text = f"{problem.field}: {problem.message}" if problem.field else problem.message
    return {
        "type": _PROCESSING_ERROR,
        "level": problem.severity,
        "message": f"{name}: {text}",
        "error": {"name": name, "message": text},
    }


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
