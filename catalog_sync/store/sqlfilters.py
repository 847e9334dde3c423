"""Filters, full-text terms and sort keys turned into SQL, with every user value a bound parameter.

A filter is answered as a set of entity ids. In each alternative the condition that matches the
fewest entities *drives*: its rows are read from one range of the covering index
``search (key, value, entity_id, ...)``, and every other condition is *probed* for those ids only,
with one seek each in ``search (entity_id, key, value)``. When an alternative has several conditions
the smallest is found first with capped counts (one round trip for all), because SQLite's planner
cannot tell a selective condition (``spec.owner=team-a``) from a broad one (``kind=component``) and
would otherwise read the broad one whole. Alternatives are combined with ``UNION``.

``filter_clause`` is the probe form alone, for queries that already start from a few entities
(by-refs with a filter).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    exists,
    func,
    intersect,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.sql.selectable import ScalarSelect

from catalog_sync.store.filters import RELATIONS_PREFIX, Condition, EntityFilter, FullText, OrderField
from catalog_sync.store.tables import entities, relations, search

if TYPE_CHECKING:
    from sqlalchemy.sql.selectable import CompoundSelect

    IdSet: TypeAlias = Select[int] | CompoundSelect[int]
    """A SELECT of one column, ``entity_id``, each matching entity once."""

ESTIMATE_CAP = 2000
"""A condition matching more entities than this is *broad*: counting stops just beyond it, and
ordered pages walk an index instead of collecting the matches."""

UNFILTERED = 2**62
"""The estimate of "no filter": every entity."""

Term = Condition | FullText
"""One thing an entity must satisfy: a filter condition or the full-text term."""


@dataclass(frozen=True)
class FilterPlan:
    """How to find the entities matching a filter and a full-text term.

    Each alternative lists its terms smallest first (the first one drives). ``estimate`` is how many
    entities match, when known: the drivers' measured sizes, or a count the caller made anyway.
    """

    alternatives: tuple[tuple[Term, ...], ...]
    estimate: int | None

    @property
    def is_broad(self) -> bool:
        """Whether the filter keeps so many entities that walking an index in order beats collecting them."""
        return self.estimate is not None and self.estimate > ESTIMATE_CAP

    def id_range(self) -> Select[int] | None:
        """The matches as one SELECT that reads them in id order from one index range, when a
        ``key=value`` condition drives the only alternative (the others being probed), else None.

        Its first ``n`` rows cost about ``n`` index entries however many entities match.
        """
        if len(self.alternatives) != 1:
            return None
        driver = self.alternatives[0][0]
        if not isinstance(driver, Condition) or driver.is_relation or len(driver.values) != 1:
            return None
        return _alternative_ids(self.alternatives[0])

    def with_estimate(self, estimate: int) -> FilterPlan:
        """The same plan, knowing how many entities match (e.g. from the page's total)."""
        return FilterPlan(self.alternatives, UNFILTERED if not self.alternatives else estimate)

    def ids(self) -> IdSet | None:
        """The matching ids as one SELECT, None when nothing is filtered."""
        if not self.alternatives:
            return None
        if self._intersects():
            return intersect(*(_driver(term) for term in self.alternatives[0]))
        selects = [_alternative_ids(terms) for terms in self.alternatives]
        return selects[0] if len(selects) == 1 else union(*selects)

    def _intersects(self) -> bool:
        """Whether the matches are best found by intersecting index ranges: when every condition of
        the only alternative is broad (its smallest is), probing each of the driver's thousands of
        ids costs more than reading every range and intersecting them (about 2.5x on SQLite for
        ``kind=product,spec.lifecycle=production`` over 10,000 products)."""
        if len(self.alternatives) != 1 or not self.is_broad or len(self.alternatives[0]) < 2:
            return False
        return all(
            isinstance(term, Condition) and not term.is_relation and term.values
            for term in self.alternatives[0]
        )

    def probe(self, id_column: ColumnElement[int]) -> ColumnElement[bool]:
        """Whether the entity ``id_column`` matches, checked with a few index seeks."""
        if not self.alternatives:
            return id_column.is_not(None)
        clauses = [and_(*(_probe(term, id_column) for term in terms)) for terms in self.alternatives]
        return clauses[0] if len(clauses) == 1 else or_(*clauses)


def plan_filter(
    connection: Connection,
    entity_filter: EntityFilter | None,
    full_text: FullText | None = None,
    *,
    measure: bool = True,
) -> FilterPlan:
    """Order each alternative smallest term first, measuring the terms (one round trip) if needed.

    With ``measure=False`` terms are measured only when an alternative has several (there is a
    driver to choose), and the estimate is left unknown otherwise; callers that count the matches
    anyway pass the count to ``with_estimate`` instead of paying for a measurement.
    """
    if entity_filter is None and full_text is None:
        return FilterPlan((), UNFILTERED)
    alternatives: list[list[Term]] = [
        list(alternative.conditions) for alternative in (entity_filter.alternatives if entity_filter else [])
    ] or [[]]
    if full_text is not None:
        alternatives = [[*terms, full_text] for terms in alternatives]
    if not measure and all(len(terms) == 1 for terms in alternatives):
        return FilterPlan(tuple(tuple(terms) for terms in alternatives), None)
    sizes = estimate_sizes(connection, {term for terms in alternatives for term in terms})
    ordered = tuple(tuple(sorted(terms, key=lambda term: sizes[term])) for terms in alternatives)
    return FilterPlan(ordered, sum(sizes[terms[0]] for terms in ordered))


def matching_ids(
    connection: Connection, entity_filter: EntityFilter | None, full_text: FullText | None = None
) -> IdSet | None:
    """The ids of the entities matching the filter and the full-text term; None when both are absent."""
    return plan_filter(connection, entity_filter, full_text, measure=False).ids()


def filter_clause(
    entity_filter: EntityFilter | None, id_column: ColumnElement[int] | None = None
) -> ColumnElement[bool]:
    """The WHERE clause keeping the entities a filter matches, probed entity by entity.

    It applies to a query on ``entities`` by default; give ``id_column`` to filter the rows of another
    table by the entity they belong to. Best when the rest of the query already yields few rows.
    """
    column = entities.c.id if id_column is None else id_column
    if entity_filter is None:
        return column.is_not(None)
    alternatives = [
        and_(*(_probe(condition, column) for condition in alternative.conditions))
        for alternative in entity_filter.alternatives
    ]
    return alternatives[0] if len(alternatives) == 1 else or_(*alternatives)


def entity_clause(ids: IdSet | None, id_column: ColumnElement[int] | None = None) -> ColumnElement[bool]:
    """``id IN (ids)`` on ``entities`` (or on ``id_column``); always true when there is no id set."""
    column = entities.c.id if id_column is None else id_column
    if ids is None:
        return column.is_not(None)
    return column.in_(ids)


def count_matches(ids: IdSet | None) -> Select[int]:
    """How many entities are in the set: the whole catalog when there is no set (no filter)."""
    if ids is None:
        return select(func.count()).select_from(entities)
    return select(func.count()).select_from(ids.subquery())


def estimate_sizes(connection: Connection, terms: set[Term]) -> dict[Term, int]:
    """How many entities each term matches, counted up to ``ESTIMATE_CAP + 1``, in one round trip."""
    ordered = [term for term in terms if isinstance(term, Condition)]
    sizes: dict[Term, int] = {term: ESTIMATE_CAP + 1 for term in terms if isinstance(term, FullText)}
    if ordered:
        counts = [
            select(func.count())
            .select_from(_driver(term).limit(ESTIMATE_CAP + 1).subquery())
            .scalar_subquery()
            for term in ordered
        ]
        row = connection.execute(select(*counts)).one()
        sizes.update(zip(ordered, (int(value) for value in row), strict=True))
    return sizes


def sort_value(field: OrderField, id_column: ColumnElement[int]) -> ScalarSelect[str | None]:
    """The value an entity sorts by: its first value of that key in the field's direction, or NULL.

    One value per entity even for multi-valued keys (tags), so an entity appears once in a page.
    """
    aggregate = func.min(search.c.value) if field.order == "asc" else func.max(search.c.value)
    return (
        select(aggregate)
        .where(search.c.entity_id == id_column, search.c.key == field.field)
        .scalar_subquery()
    )


def escape_like(text: str) -> str:
    """Make ``%``, ``_`` and the escape character itself literal inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _alternative_ids(terms: Sequence[Term]) -> Select[int]:
    """The smallest term's rows, probed for every other term."""
    driver, *others = terms
    query = _driver(driver)
    driver_id = query.selected_columns[0]
    for term in others:
        query = query.where(_probe(term, driver_id))
    return query


def _driver(term: Term) -> Select[int]:
    """The ids matching one term, read from an index range (each id once)."""
    if isinstance(term, FullText):
        in_text = select(entities.c.id.label("entity_id")).where(
            _full_text_match(entities.c.search_text, term)
        )
        if term.fields is None:
            return in_text
        in_keys = select(search.c.entity_id).where(
            _keys_match(search.c.key, term.fields), _full_text_match(search.c.value, term)
        )
        if term.with_text:
            found = union(in_text, in_keys).subquery()
            return select(found.c.entity_id)
        return in_keys.distinct()
    if term.is_relation:
        return select(entities.c.id.label("entity_id")).where(entities.c.ref_key.in_(_relation_sources(term)))
    query = select(search.c.entity_id).where(search.c.key == term.key)
    if term.values:
        query = query.where(_equals_any(search.c.value, term.values))
    # One row per (entity, key, value), so only several values or a bare key can repeat an entity.
    return query if len(term.values) == 1 else query.distinct()


def _probe(term: Term, id_column: ColumnElement[int]) -> ColumnElement[bool]:
    """Whether the entity ``id_column`` satisfies the term: one index seek."""
    if isinstance(term, FullText):
        if term.fields is None:
            other = entities.alias()
            return exists(
                select(literal(1)).where(other.c.id == id_column, _full_text_match(other.c.search_text, term))
            )
        rows = search.alias()
        in_keys = exists(
            select(literal(1)).where(
                rows.c.entity_id == id_column,
                _keys_match(rows.c.key, term.fields),
                _full_text_match(rows.c.value, term),
            )
        )
        if not term.with_text:
            return in_keys
        other = entities.alias()
        in_text = exists(
            select(literal(1)).where(other.c.id == id_column, _full_text_match(other.c.search_text, term))
        )
        return or_(in_text, in_keys)
    if term.is_relation:
        other = entities.alias()
        edges = relations.alias()
        query = (
            select(literal(1))
            .select_from(other.join(edges, edges.c.source_key == other.c.ref_key))
            .where(other.c.id == id_column, func.lower(edges.c.type) == term.key[len(RELATIONS_PREFIX) :])
        )
        if term.values:
            query = query.where(_equals_any(edges.c.target_key, term.values))
        return exists(query)
    rows = _PROBED
    query = select(literal(1)).where(rows.c.entity_id == id_column, rows.c.key == term.key)
    if term.values:
        query = query.where(_equals_any(rows.c.value, term.values))
    return exists(query)


_PROBED = search.alias("probed")
"""The search rows every ``key=value`` probe reads. Each probe is an ``EXISTS`` of its own, so all may
name one alias; building a fresh alias per condition cost more Python time than the database spent
answering (a third of the calls of a 200-condition filter)."""


def _relation_sources(condition: Condition) -> Select[str]:
    relation_type = condition.key[len(RELATIONS_PREFIX) :]
    sources = select(relations.c.source_key).where(func.lower(relations.c.type) == relation_type)
    if condition.values:
        sources = sources.where(_equals_any(relations.c.target_key, condition.values))
    return sources


def _full_text_match(column: ColumnElement[str | None], full_text: FullText) -> ColumnElement[bool]:
    return column.like("%" + escape_like(full_text.term.lower()) + "%", escape="\\")


def _keys_match(column: ColumnElement[str | None], keys: tuple[str, ...]) -> ColumnElement[bool]:
    """The key is one of ``keys``, or begins with one that ends in ``.`` (a prefix)."""
    exact = tuple(key for key in keys if not key.endswith("."))
    prefixes = [column.like(escape_like(key) + "%", escape="\\") for key in keys if key.endswith(".")]
    clauses = ([_equals_any(column, exact)] if exact else []) + prefixes
    return clauses[0] if len(clauses) == 1 else or_(*clauses)


def _equals_any(column: ColumnElement[str | None], values: tuple[str, ...]) -> ColumnElement[bool]:
    if len(values) == 1:
        return column == values[0]
    return column.in_(values)
