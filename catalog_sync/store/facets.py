"""Entity facets: the distinct values of some keys and how many entities carry each.

The portal's filter pickers (kinds, owners, lifecycles, tags) are built from these, so they are
computed from the same ``search`` rows filters use. Values are grouped case-insensitively, as filters
match them (``Java`` and ``java`` are one facet value, shown in one of its original spellings; Backstage
would list them apart although either filter returns both), which also lets one range of the
covering search index answer a facet without a sort. ``relations.<type>`` facets count the targets
of that relation type.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence

from sqlalchemy import Connection, Select, func, select

from catalog_sync.errors import QueryError
from catalog_sync.store.filters import MAX_KEY_LENGTH, RELATIONS_PREFIX, EntityFilter
from catalog_sync.store.sqlfilters import entity_clause, matching_ids
from catalog_sync.store.tables import entities, relations, search

MAX_FACETS = 50

Facets = dict[str, list[tuple[str, int]]]


class FacetCache:
    """Recently computed facets, kept for a few seconds.

    A facet over a broad filter reads one index entry per matching entity (tens of milliseconds at
    100,000 entities), while the portal asks for the same few facets on every page view and the
    answer only moves when a sync pass writes. Keeping answers for ``ttl_seconds`` makes those views
    cheap at the price of facets that may lag a write by that long; ``ttl_seconds=0`` turns it off.
    """

    def __init__(
        self, ttl_seconds: float, max_entries: int = 256, clock: Callable[[], float] = time.monotonic
    ):
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, Facets]] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Facets]) -> Facets:
        """The cached answer for ``key`` if still fresh, else a newly computed (and kept) one."""
        if self._ttl <= 0:
            return compute()
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            entry = (now + self._ttl, compute())
            with self._lock:
                if len(self._entries) >= self._max_entries:
                    self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
                    while len(self._entries) >= self._max_entries:
                        self._entries.pop(next(iter(self._entries)))
                self._entries[key] = entry
        return {facet: list(values) for facet, values in entry[1].items()}

    def clear(self) -> None:
        """Forget every answer, so the next request computes afresh."""
        with self._lock:
            self._entries.clear()


def count_facets(
    connection: Connection, facet_keys: Sequence[str], entity_filter: EntityFilter | None
) -> Facets:
    """Count values per facet; each list is ordered by count (highest first), then by value."""
    check_facet_keys(facet_keys)
    result: Facets = {}
    search_keys = sorted({key.lower() for key in facet_keys if not key.lower().startswith(RELATIONS_PREFIX)})
    counted: dict[str, list[tuple[str, int]]] = {key: [] for key in search_keys}
    if search_keys:
        for key, original, number in connection.execute(
            _search_facets(connection, search_keys, entity_filter)
        ):
            counted[key].append((original or "", int(number)))
    for facet in facet_keys:
        key = facet.lower()
        if key.startswith(RELATIONS_PREFIX):
            values = _relation_facet(connection, key[len(RELATIONS_PREFIX) :], entity_filter)
        else:
            values = counted[key]
        result[facet] = sorted(values, key=lambda item: (-item[1], item[0]))
    return result


def _search_facets(
    connection: Connection, keys: Sequence[str], entity_filter: EntityFilter | None
) -> Select[str, str | None, int]:
    """Count per lower-cased value from the covering index, then fetch one spelling per value.

    Counting alone reads nothing but ``search (key, value, entity_id)`` entries; the spelling is one
    index seek per distinct value (the one of the entity first written with it).
    """
    counted = select(search.c.key, search.c.value, func.count().label("number")).where(
        search.c.key.in_(keys), search.c.value.is_not(None)
    )
    if entity_filter is not None:
        counted = counted.where(entity_clause(matching_ids(connection, entity_filter), search.c.entity_id))
    groups = counted.group_by(search.c.key, search.c.value).subquery("groups")
    spelled = search.alias("spelled")
    spelling = (
        select(spelled.c.original_value)
        .where(spelled.c.key == groups.c.key, spelled.c.value == groups.c.value)
        .order_by(spelled.c.entity_id)
        .limit(1)
        .scalar_subquery()
    )
    return select(groups.c.key, spelling, groups.c.number)


def _relation_facet(
    connection: Connection, relation_type: str, entity_filter: EntityFilter | None
) -> list[tuple[str, int]]:
    count = func.count(relations.c.source_key.distinct()).label("count")
    query = (
        select(relations.c.target_key, count)
        .where(func.lower(relations.c.type) == relation_type)
        .group_by(relations.c.target_key)
    )
    if entity_filter is not None:
        matching = entity_clause(matching_ids(connection, entity_filter))
        query = query.where(relations.c.source_key.in_(select(entities.c.ref_key).where(matching)))
    return [(target, int(number)) for target, number in connection.execute(query)]


def check_facet_keys(facet_keys: Sequence[str]) -> None:
    """Refuse malformed facet keys before any cache or database is asked."""
    if len(facet_keys) > MAX_FACETS:
        raise QueryError("facet", f"at most {MAX_FACETS} facets are allowed")
    for key in facet_keys:
        if not isinstance(key, str) or not key.strip():
            raise QueryError("facet", "a facet must be a non-empty key")
        if len(key) > MAX_KEY_LENGTH or any(ord(char) < 32 or ord(char) == 127 for char in key):
            raise QueryError("facet", f"{key[:50]!r} is not a valid key")
        if key.lower() == RELATIONS_PREFIX:
            raise QueryError("facet", "'relations.' must be followed by a relation type")
