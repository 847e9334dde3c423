"""Entities as the read side returns them, and their Backstage JSON form.

An entity is spread over four tables (its row, its search rows, the relations it is the source of,
the problems attached to it). ``entity_columns`` reads a row together with its relations and problems
(each gathered into one JSON array by a correlated subquery), so a page of entities costs one
statement, hence one round trip to the database, however many entities and details it holds. Each
entity is then turned into the JSON Backstage's clients expect: the envelope with
``metadata.uid``/``etag``, ``relations`` and, for processing errors, ``status.items``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Label, Row, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from catalog_sync.model import ORPHAN_ANNOTATION
from catalog_sync.store.tables import entities, problems, relations

_PROCESSING_ERROR = "backstage.io/catalog-processing"


@dataclass(frozen=True)
class StoredProblem:
    """A problem attached to an entity or a repository: the API shows it as one of Backstage's
    ``status.items`` on an entity, and in the ``errors`` of a repository."""

    category: str
    severity: str
    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None
    entity_ref: str | None = None


PROBLEM_COLUMNS = tuple(problems.c[name] for name in StoredProblem.__dataclass_fields__)
"""The ``problems`` columns a ``StoredProblem`` is built from, in its fields' order."""


class JsonRows(FunctionElement[Any]):
    """An aggregate gathering one JSON array per row into a JSON array, NULL when there is no row.

    Spelled ``json_agg(json_build_array(...))`` on PostgreSQL and ``json_group_array(json_array(...))``
    on SQLite (made NULL for no rows, so an entity without problems costs no JSON parsing); the order
    of the rows is not defined, so readers sort them.
    """

    type = JSON()
    name = "json_rows"
    inherit_cache = True


@compiles(JsonRows)
def _json_rows_sqlite(element: JsonRows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"nullif(json_group_array(json_array({compiler.process(element.clauses, **kw)})), '[]')"


@compiles(JsonRows, "postgresql")
def _json_rows_postgresql(element: JsonRows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


_BASE_COLUMNS = (
    entities.c.id,
    entities.c.uid,
    entities.c.ref_key,
    entities.c.body,
    entities.c.etag,
    entities.c.repository_id,
    entities.c.path,
    entities.c.line,
    entities.c.orphaned_at,
)
_RELATION_ROWS = (
    select(JsonRows(relations.c.type, relations.c.target_key))
    .where(relations.c.source_key == entities.c.ref_key)
    .scalar_subquery()
    .label("relation_rows")
)
_PROBLEM_ROWS = (
    select(JsonRows(problems.c.id, *PROBLEM_COLUMNS))
    .where(problems.c.entity_id == entities.c.id)
    .scalar_subquery()
    .label("problem_rows")
)


def _relation_rows_of(types: Sequence[str]) -> Label[Any]:
    return (
        select(JsonRows(relations.c.type, relations.c.target_key))
        .where(relations.c.source_key == entities.c.ref_key, relations.c.type.in_(list(types)))
        .scalar_subquery()
        .label("relation_rows")
    )


def entity_columns(
    fields: Sequence[str] | None = None, relation_types: Sequence[str] | None = None
) -> list[ColumnElement[Any] | Label[Any]]:
    """The columns of a query on ``entities`` that ``entity_from_row`` builds an entity from.

    Relations and problems come along unless a ``fields`` list leaves them out, so that one statement
    reads everything a page shows. ``relation_types`` keeps only relations of those types: a page
    that shows owners need not read the hundreds of relations a team or a capability has.
    """
    columns: list[ColumnElement[Any] | Label[Any]] = list(_BASE_COLUMNS)
    if needs(fields, "relations"):
        columns.append(_RELATION_ROWS if relation_types is None else _relation_rows_of(relation_types))
    if needs(fields, "status"):
        columns.append(_PROBLEM_ROWS)
    return columns


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
    """Build an entity from a row selected with ``entity_columns``.

    Relations are sorted by type, then target, and repeated ones shown once; problems keep the order
    they were recorded in.
    """
    mapping = row._mapping
    relation_rows = _json_list(mapping.get("relation_rows"))
    problem_rows = sorted(_json_list(mapping.get("problem_rows")), key=lambda values: values[0])
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
        relations=sorted({(kind, target) for kind, target in relation_rows}),
        problems=[StoredProblem(*values[1:]) for values in problem_rows],
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


def _json_list(value: Any) -> list[Any]:
    """A ``JsonRows`` result as a list: drivers hand back parsed JSON or text, and NULL for no rows."""
    if value is None:
        return []
    if isinstance(value, str | bytes):
        parsed: list[Any] = json.loads(value)
        return parsed
    return list(value)
