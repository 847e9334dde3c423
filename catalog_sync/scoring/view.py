"""What scoring reads of the catalog: entities, relation lists and repository facts, loaded in bulk.

Evaluation never queries the database itself. It asks a ``CatalogView``; when the view lacks what is
asked, it raises ``Missing`` naming *everything* the caller said it would need, the scorer loads all
the missing pieces of all pending entities in a few bulk queries, and evaluation runs again. So a
re-score of ten thousand entities costs a handful of queries per round, and a re-score of a hundred
costs the same handful, small.

Every read is remembered in a ``Reads`` (the entity keys, relation lists and repositories one entity's
evaluation looked at). Those are the entity's *dependencies*: when one of them changes later, the
entity is re-scored. The rule that makes this exact: a relation list ``(key, type)`` changes only when
the entity ``key`` is rewritten, or when the entity that originated a row of it changes; rows that
another entity originated always point back at that entity, so reading a list records, besides the
list itself, every target whose row was originated elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from catalog_sync.store.scoring.types import ALL_TYPES as ALL_TYPES
from catalog_sync.store.scoring.types import Meta as Meta

T = TypeVar("T")

REPOSITORY_PREFIX = "@repository:"
"""Dependency keys of repositories (their facts), beside entity ref keys."""
SELF_WRITTEN = frozenset({"ownedBy", "partOf"})
"""Relation types whose rows only the source entity itself writes: no spec field derives ``ownerOf``
or ``hasPart`` (their inverses), so reading an entity's own ``ownedBy`` or ``partOf`` list depends on
that entity alone (a test of ``catalog_sync.descriptors.relations`` keeps this true)."""


def repository_key(repository_id: int) -> str:
    """The dependency key of a repository's facts."""
    return f"{REPOSITORY_PREFIX}{repository_id}"


def kind_of(key: str) -> str:
    """The kind part of a ref key (``team:default/x`` -> ``team``)."""
    return key.partition(":")[0]


@dataclass(frozen=True, slots=True)
class Edge:
    """One stored relation row seen from its source: its type, target, and the entity that wrote it."""

    type: str
    target: str
    origin: int


@dataclass(frozen=True, slots=True)
class PartsSummary:
    """What a capability's ``hasPart`` list says for serving: a live product (or None), and groups."""

    serving: str | None
    groups: tuple[str, ...]
    """Targets that are capabilities, domains or systems (what may serve it further down)."""


@dataclass
class Need:
    """What the view must load before evaluation can go on."""

    metas: set[str] = field(default_factory=set)
    bodies: set[str] = field(default_factory=set)
    edges: set[tuple[str, str]] = field(default_factory=set)
    repositories: set[int] = field(default_factory=set)
    parts: set[str] = field(default_factory=set)
    """Capabilities (and systems) whose ``hasPart`` summary is needed (see ``CatalogView.parts``)."""
    kpis: set[str] = field(default_factory=set)
    """Entities whose stored KPI values are needed (the ``kpi`` rule)."""

    def merge(self, other: Need) -> None:
        """Add another need to this one."""
        self.metas |= other.metas
        self.bodies |= other.bodies
        self.edges |= other.edges
        self.repositories |= other.repositories
        self.parts |= other.parts
        self.kpis |= other.kpis

    def __bool__(self) -> bool:
        return bool(self.metas or self.bodies or self.edges or self.repositories or self.parts or self.kpis)


class Missing(Exception):  # noqa: N818 - a signal between view and scorer, not an error
    """Evaluation needs data the view has not loaded yet; the scorer loads it and tries again."""

    def __init__(self, need: Need) -> None:
        super().__init__("data not loaded yet")
        self.need = need


class Reads:
    """The dependencies of one entity's evaluation: ``(key, part)`` with part "" for the entity itself."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: set[tuple[str, str]] = set()

    def add(self, key: str, part: str = "") -> None:
        """Remember one read."""
        self.items.add((key, part))


@dataclass
class CatalogView:
    """Loaded entities, bodies, relation lists and repository facts; asks for more by raising ``Missing``."""

    metas: dict[str, Meta] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: dict[str, dict[str, list[Edge]]] = field(default_factory=dict)
    """source key -> relation type -> rows; a type present (even empty) is loaded."""
    complete_edges: set[str] = field(default_factory=set)
    """Sources whose relations of every type are loaded."""
    repositories: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    kpi_values: dict[str, dict[str, tuple[float | None, str | None]]] = field(default_factory=dict)
    """Entity key -> KPI id -> (last good value, error of the last measurement)."""
    parts: dict[str, PartsSummary] = field(default_factory=dict)
    """For a capability, domain or system: one live product or component among its ``hasPart``
    targets (None when there is none) and its capability-like or system targets. Answered by the
    database, so finding what serves a capability never loads its hundreds of products."""
    memo: dict[tuple[str, str], tuple[Any, frozenset[tuple[str, str]]]] = field(default_factory=dict)

    # -- asking for data ahead of reading it ------------------------------------------------------------

    def require(
        self,
        *,
        metas: Iterable[str] = (),
        bodies: Iterable[str] = (),
        edges: Iterable[tuple[str, str]] = (),
        repositories: Iterable[int] = (),
        parts: Iterable[str] = (),
    ) -> None:
        """Raise ``Missing`` with every piece not yet loaded, so one round loads them all together."""
        need = Need()
        need.metas.update(k for k in metas if k not in self.metas and k not in self.absent)
        need.bodies.update(k for k in bodies if k not in self.bodies and k not in self.absent)
        need.edges.update(e for e in edges if not self.has_edges(*e))
        need.repositories.update(r for r in repositories if r not in self.repositories)
        need.parts.update(k for k in parts if k not in self.parts)
        if need:
            raise Missing(need)

    def remember(self, name: str, key: str, reads: Reads, compute: Callable[[Reads], T]) -> T:
        """``compute`` once per view for ``(name, key)``; its reads are added to every caller's."""
        found = self.memo.get((name, key))
        if found is None:
            own = Reads()
            found = (compute(own), frozenset(own.items))
            self.memo[(name, key)] = found
        reads.items |= found[1]
        value: T = found[0]
        return value

    def has_meta(self, key: str) -> bool:
        """Whether the entity ``key`` is known to exist or known not to."""
        return key in self.metas or key in self.absent

    def has_body(self, key: str) -> bool:
        """Whether the body of ``key`` is loaded (or ``key`` is known not to exist)."""
        return key in self.bodies or key in self.absent

    def has_edges(self, key: str, relation_type: str) -> bool:
        """Whether the relation list ``(key, type)`` is loaded."""
        if key in self.complete_edges:
            return True
        return relation_type != ALL_TYPES and relation_type in self.edges.get(key, {})

    # -- reading, with the read remembered --------------------------------------------------------------

    def meta(self, key: str, reads: Reads) -> Meta | None:
        """The entity ``key``, None when it does not exist."""
        reads.add(key)
        found = self.metas.get(key)
        if found is None and key not in self.absent:
            raise Missing(Need(metas={key}))
        return found

    def live(self, key: str, reads: Reads) -> Meta | None:
        """The entity ``key`` when it exists and is not an orphan."""
        found = self.meta(key, reads)
        return found if found is not None and not found.orphaned else None

    def body(self, key: str, reads: Reads) -> dict[str, Any] | None:
        """The envelope of ``key``, None when the entity does not exist."""
        reads.add(key)
        found = self.bodies.get(key)
        if found is None and key not in self.absent:
            raise Missing(Need(bodies={key}))
        return found

    def edges_of(self, key: str, relation_type: str, reads: Reads, *, targets: bool = True) -> list[Edge]:
        """The relations of ``key`` of one type (``ALL_TYPES`` for all), as stored.

        ``targets=False`` leaves recording the targets to the caller, for a caller whose answer
        depends only on the targets it goes on to read (see the module doc).
        """
        if relation_type in SELF_WRITTEN:
            reads.add(key)
        else:
            reads.add(key, relation_type)
        if not self.has_edges(key, relation_type):
            raise Missing(Need(edges={(key, relation_type)}))
        by_type = self.edges.get(key, {})
        if relation_type == ALL_TYPES:
            found = [edge for rows in by_type.values() for edge in rows]
        else:
            found = by_type.get(relation_type, [])
        if not targets:
            return found
        own = self.metas.get(key)
        own_id = own.id if own is not None else None
        for edge in found:
            if edge.origin != own_id:
                reads.add(edge.target)
        return found

    def parts_of(self, key: str, reads: Reads) -> PartsSummary:
        """The ``hasPart`` summary of ``key``: the live product found (a dependency) and the groups.

        The answer depends on the list ``(key, hasPart)``: a product joining or leaving it, or one in
        it becoming an orphan or live again, changes a row of it or its originator, which makes the
        list a changed one (see the module doc); so the list and the product found are recorded.
        """
        reads.add(key, "hasPart")
        found = self.parts.get(key)
        if found is None:
            raise Missing(Need(parts={key}))
        if found.serving is not None:
            reads.add(found.serving)
        return found

    def facts(self, repository_id: int | None, reads: Reads) -> dict[str, Any] | None:
        """The facts of a repository (``repositories.facts``), None when unknown."""
        if repository_id is None:
            return None
        reads.add(repository_key(repository_id))
        if repository_id not in self.repositories:
            raise Missing(Need(repositories={repository_id}))
        return self.repositories[repository_id]

    def kpis(self, key: str, reads: Reads) -> dict[str, tuple[float | None, str | None]]:
        """The stored values of an entity's KPIs by id (empty when none was measured)."""
        reads.add(key, "kpis")
        if key not in self.kpi_values:
            raise Missing(Need(kpis={key}))
        return self.kpi_values[key]

    # -- filling ------------------------------------------------------------------------------------------

    def add_meta(self, meta: Meta, body: dict[str, Any] | None = None) -> None:
        """Store one loaded entity (and its body when it was loaded)."""
        self.metas[meta.key] = meta
        self.absent.discard(meta.key)
        if body is not None:
            self.bodies[meta.key] = body

    def mark_absent(self, keys: Iterable[str]) -> None:
        """Record that these entities do not exist (so asking again costs nothing)."""
        for key in keys:
            if key not in self.metas:
                self.absent.add(key)

    def add_edges(self, pairs: Iterable[tuple[str, str]], rows: Iterable[tuple[str, str, str, int]]) -> None:
        """Store loaded relation lists: ``pairs`` were asked for, ``rows`` are what the store holds."""
        wanted: dict[str, set[str]] = {}
        for key, relation_type in pairs:
            if key in self.complete_edges:
                continue
            wanted.setdefault(key, set()).add(relation_type)
            by_type = self.edges.setdefault(key, {})
            if relation_type == ALL_TYPES:
                self.complete_edges.add(key)
                by_type.clear()
            else:
                by_type[relation_type] = []
        for source, relation_type, target, origin in rows:
            types = wanted.get(source)
            if types is not None and (ALL_TYPES in types or relation_type in types):
                self.edges[source].setdefault(relation_type, []).append(Edge(relation_type, target, origin))

    def add_parts(self, keys: Iterable[str], serving: dict[str, str], groups: dict[str, list[str]]) -> None:
        """Store loaded ``hasPart`` summaries."""
        for key in keys:
            self.parts[key] = PartsSummary(serving.get(key), tuple(groups.get(key, ())))

    def forget(self, keys: Iterable[str]) -> None:
        """Drop the bodies and relation lists of entities no longer needed, to bound memory."""
        for key in keys:
            self.bodies.pop(key, None)
            self.edges.pop(key, None)
            self.complete_edges.discard(key)
