"""The plain data reconcile decides and the store applies: shared below both, so neither imports the other.

Reconcile turns a scan into a ``Plan`` and a source's listing into a ``RemovalDecision``, and picks the
orphans whose grace period has passed from ``OrphanRow``s; the store reads ``KnownEntity``,
``ListedRepository`` and ``OrphanRow`` for it and writes what was decided. Nothing here touches a
database or decides anything.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog_sync.descriptors.problems import Problem
from catalog_sync.model import ORPHAN_ANNOTATION, Entity


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
    created_at: datetime | None = None


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


@dataclass
class EntityWrite:
    """An entity to insert (``existing_id`` None) or to rewrite."""

    prepared: Prepared
    path: str
    line: int
    existing_id: int | None
    descriptor_changed_at: datetime | None
    claimed: bool = False
    """The entity comes to this repository now (it was an orphan, or its repository was removed or is
    another): its holding starts now, as for a new entity, so the conflict rule ranks it the same way."""


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
    contested_since: datetime | None = None
    taken_from: set[int] = field(default_factory=set)
    """Repositories whose entities this plan takes over (``reconcile.CLAIM_RULE``): read them again."""

    @property
    def changed(self) -> bool:
        """True when the catalog's entities change (not only the repository's bookkeeping)."""
        return bool(self.writes or self.orphan_ids)


@dataclass(frozen=True)
class ListedRepository:
    """A repository the catalog holds for a source and has not removed: what a new listing is judged by."""

    id: int
    key: str
    missed: int = 0
    """Complete listings of the source in a row that did not list it."""


@dataclass(frozen=True)
class RemovalDecision:
    """What a source's new listing removes from the catalog, or why it removes nothing.

    ``removed_ids`` are removed (their entities orphaned); when the removal is refused they are empty,
    ``kept_ids`` holds the repositories that vanished but stay, and ``refused`` says why, for the
    source and for each of those repositories.
    """

    removed_ids: tuple[int, ...] = ()
    kept_ids: tuple[int, ...] = ()
    refused: str | None = None
    missed_ids: tuple[int, ...] = ()
    """Repositories missing from this listing that are kept until they miss enough listings in a row
    (``removal_listings``); their count of missed listings goes up by one."""


@dataclass(frozen=True)
class OrphanRow:
    """An orphan in the catalog and since when: all the expiry decision needs."""

    id: int
    orphaned_at: datetime


def mark_orphan(body: dict[str, Any]) -> dict[str, Any]:
    """The envelope of an orphan: Backstage's ``backstage.io/orphan: "true"`` annotation added."""
    marked = copy.deepcopy(body)
    annotations = dict(marked.setdefault("metadata", {}).get("annotations") or {})
    annotations[ORPHAN_ANNOTATION] = "true"
    marked["metadata"]["annotations"] = annotations
    return marked
