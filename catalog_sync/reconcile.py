"""What one repository's scan means for the catalog: a plan of writes, decided without touching the store.

Reconcile is pure so that every rule of "nothing is lost on failure" can be tested on its own:
- a descriptor that stops validating keeps its last good entity, with the error attached;
- a file that cannot be read at all keeps every entity it held before;
- a descriptor that disappears makes an orphan (removed later only by policy);
- two repositories claiming one entity: the first keeps it, the second gets a conflict error;
- an unchanged entity (same content hash) is not rewritten.
The store's writer applies a plan in one transaction.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog_sync.descriptors.parsed import ParsedFile
from catalog_sync.descriptors.problems import Problem
from catalog_sync.errors import RefError
from catalog_sync.model import (
    DEFAULT_NAMESPACE,
    MANAGED_BY_LOCATION,
    MANAGED_BY_ORIGIN_LOCATION,
    ORPHAN_ANNOTATION,
    Entity,
    EntityRef,
)
from catalog_sync.store.search import build_search_rows


@dataclass(frozen=True)
class KnownEntity:
    """What reconcile needs to know of an entity already in the catalog."""

    id: int
    ref_key: str
    repository_id: int | None
    path: str | None
    content_hash: str
    orphaned_at: datetime | None
    repository_removed: bool = False


@dataclass(frozen=True)
class Prepared:
    """An entity as it will be stored, with everything its rows need computed once.

    Built in the worker process that parsed the descriptor, so the process that writes to the
    database only writes: the JSON body, its digest, the search rows and the full-text line.
    """

    entity: Entity
    body: str
    content_hash: str
    search_rows: list[tuple[str, str | None, str | None]]
    search_text: str


def _storable_row(row: tuple[str, str | None, str | None]) -> tuple[str, str | None, str | None]:
    """A search row the database accepts: a NUL (valid in YAML as "\\0") is refused by PostgreSQL."""
    key, value, original = row
    if "\x00" not in key and "\x00" not in (value or "") and "\x00" not in (original or ""):
        return row
    return (
        key.replace("\x00", ""),
        value.replace("\x00", "") if value is not None else None,
        original.replace("\x00", "") if original is not None else None,
    )


def prepare(entity: Entity, location: str) -> Prepared:
    """Everything stored for one valid entity read from ``location``."""
    stored = prepare_entity(entity, location)
    envelope = stored.to_dict()
    body = json.dumps(envelope, sort_keys=True, separators=(",", ":"), default=str)
    meta = stored.metadata
    text = " ".join(str(p) for p in (stored.name, meta.get("title"), meta.get("description")) if p)
    return Prepared(
        entity=stored,
        body=body,
        content_hash=hashlib.sha256(body.encode()).hexdigest(),
        search_rows=[_storable_row(row) for row in build_search_rows(envelope)],
        search_text=text.lower()[:2000].replace("\x00", ""),
    )


@dataclass
class EntityWrite:
    """An entity to insert (``existing_id`` None) or to rewrite."""

    prepared: Prepared
    path: str
    line: int
    existing_id: int | None
    descriptor_changed_at: datetime | None


@dataclass(frozen=True)
class ProblemRow:
    """A problem to store for the repository, attached to an entity by ref key when one is known."""

    category: str
    problem: Problem
    entity_key: str | None = None
    entity_id: int | None = None


@dataclass
class Plan:
    """Everything one repository's pass writes; applied atomically by the store."""

    repository_id: int
    commit: str
    writes: list[EntityWrite] = field(default_factory=list)
    unchanged_ids: list[int] = field(default_factory=list)
    orphan_ids: list[int] = field(default_factory=list)
    problems: list[ProblemRow] = field(default_factory=list)
    descriptor_files: dict[str, tuple[str, datetime | None]] = field(default_factory=dict)
    has_descriptors: bool = False
    facts: dict[str, Any] = field(default_factory=dict)
    conflicts: int = 0

    @property
    def changed(self) -> bool:
        """True when the catalog's entities change (not only the repository's bookkeeping)."""
        return bool(self.writes or self.orphan_ids)


def location_url(repo_url: str, branch: str | None, path: str) -> str:
    """Backstage's ``url:<repository>/blob/<branch>/<path>`` form of where a descriptor lives."""
    return f"url:{repo_url.rstrip('/')}/blob/{branch or 'HEAD'}/{path}"


def prepare_entity(entity: Entity, location: str) -> Entity:
    """The entity as stored: namespace filled in, location annotations set, no orphan mark.

    Only the mappings it changes are copied; ``spec`` is shared with the parsed entity, which is
    never modified after parsing.
    """
    metadata = dict(entity.metadata)
    metadata.setdefault("namespace", DEFAULT_NAMESPACE)
    annotations = dict(metadata.get("annotations") or {})
    annotations[MANAGED_BY_LOCATION] = location
    annotations[MANAGED_BY_ORIGIN_LOCATION] = location
    annotations.pop(ORPHAN_ANNOTATION, None)
    metadata["annotations"] = annotations
    return Entity(entity.api_version, entity.kind, metadata, entity.spec)


def prepare_files(
    files: list[ParsedFile], repo_url: str, branch: str | None
) -> dict[tuple[str, int], Prepared]:
    """Prepare every valid entity of a scan, keyed by (file path, document index)."""
    return {
        (parsed.path, doc.index): prepare(doc.entity, location_url(repo_url, branch, parsed.path))
        for parsed in files
        for doc in parsed.documents
        if doc.entity is not None
    }


def mark_orphan(body: dict[str, Any]) -> dict[str, Any]:
    """The envelope of an orphan: Backstage's ``backstage.io/orphan: "true"`` annotation added."""
    marked = copy.deepcopy(body)
    annotations = dict(marked.setdefault("metadata", {}).get("annotations") or {})
    annotations[ORPHAN_ANNOTATION] = "true"
    marked["metadata"]["annotations"] = annotations
    return marked


def _ref_key(ref: str | None) -> str | None:
    """The comparable key of a ref string, or None when the document named none that parses."""
    if not ref:
        return None
    try:
        return EntityRef.parse(ref).key
    except RefError:
        return None


def _file_error_paths(files: list[ParsedFile]) -> set[str]:
    """Files that could not be read as a whole: every entity they held before is kept."""
    return {f.path for f in files if any(p.severity == "error" for p in f.problems)}


def plan_repository(
    repository_id: int,
    *,
    commit: str,
    repo_url: str,
    branch: str | None,
    files: list[ParsedFile],
    descriptor_changed: dict[str, datetime],
    facts: dict[str, Any],
    own: dict[str, KnownEntity],
    others: dict[str, KnownEntity],
    prepared: Mapping[tuple[str, int], Prepared] | None = None,
    unread: Mapping[str, tuple[str, datetime | None]] | None = None,
) -> Plan:
    """Decide the writes for one repository.

    ``own`` holds the entities this repository gave last time; ``others`` holds entities with the
    same refs that belong to other repositories (or to none), so conflicts and moves can be judged.
    ``unread`` holds descriptor files of the last pass that still exist at this commit but were not
    read (a broken Location no longer leads to them), with their last blob and change time: their
    entities are kept, not orphaned, and they stay known as descriptors until they are read again.
    """
    plan = Plan(repository_id=repository_id, commit=commit, facts=facts)
    plan.descriptor_files.update(unread or {})
    broken_files = _file_error_paths(files) | set(unread or {})
    protected: set[str] = set()
    seen: dict[str, tuple[str, int]] = {}

    for parsed in files:
        plan.descriptor_files[parsed.path] = (parsed.blob_sha or "", descriptor_changed.get(parsed.path))
        for problem in parsed.problems:
            plan.problems.append(ProblemRow("descriptor", problem))
        for doc in parsed.documents:
            key = _ref_key(doc.ref)
            kept = own.get(key) if key else None
            for problem in doc.problems:
                plan.problems.append(ProblemRow("descriptor", problem, key, kept.id if kept else None))
            if doc.entity is None:
                if key in own:
                    protected.add(key)
                else:
                    # A broken kind or name no longer names the entity it was: keep every entity
                    # this file gave before, rather than orphan the one the typo hides.
                    broken_files.add(parsed.path)
                continue
            ready = (prepared or {}).get((parsed.path, doc.index)) or prepare(
                doc.entity, location_url(repo_url, branch, parsed.path)
            )
            entity = ready.entity
            key = entity.ref.key
            if key in seen:
                first_path, first_line = seen[key]
                plan.problems.append(
                    ProblemRow(
                        "conflict",
                        Problem(
                            path=parsed.path,
                            line=doc.line,
                            column=doc.column,
                            severity="error",
                            message=f"defined twice in this repository (first at {first_path}:{first_line})",
                            entity_ref=str(entity.ref),
                        ),
                    )
                )
                plan.conflicts += 1
                continue
            seen[key] = (parsed.path, doc.line)
            if not _claim(plan, key, ready, parsed.path, doc.line, own, others, descriptor_changed):
                continue

    plan.has_descriptors = bool(files)
    for key, known in own.items():
        if key in seen or key in protected or known.path in broken_files:
            continue
        if known.orphaned_at is None:
            plan.orphan_ids.append(known.id)
    return plan


def _claim(
    plan: Plan,
    key: str,
    ready: Prepared,
    path: str,
    line: int,
    own: dict[str, KnownEntity],
    others: dict[str, KnownEntity],
    descriptor_changed: dict[str, datetime],
) -> bool:
    """Record the write for one valid entity, or a conflict when another repository holds it."""
    entity = ready.entity
    known = own.get(key)
    if known is None:
        other = others.get(key)
        if other is not None and other.orphaned_at is None and not other.repository_removed:
            plan.problems.append(
                ProblemRow(
                    "conflict",
                    Problem(
                        path=path,
                        line=line,
                        severity="error",
                        entity_ref=str(entity.ref),
                        message="conflict: this entity is already defined by another repository; "
                        "the first definition is kept until it is removed there",
                    ),
                )
            )
            plan.conflicts += 1
            return False
        known = other
    changed_at = descriptor_changed.get(path)
    if known is None:
        plan.writes.append(EntityWrite(ready, path, line, None, changed_at))
    elif (
        known.content_hash != ready.content_hash
        or known.orphaned_at is not None
        or known.repository_id != plan.repository_id
    ):
        plan.writes.append(EntityWrite(ready, path, line, known.id, changed_at))
    else:
        plan.unchanged_ids.append(known.id)
    return True
