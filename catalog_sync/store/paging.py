"""Keyset paging of by-query results, in the order Backstage defines.

Entities are ordered by the order fields' values, missing values last, then by entity id in the
direction of the first order field (as Backstage does), so equal values can never make an entity
appear twice or not at all. A position is the sort values of a row and its id; a page is "the next
``n`` rows after (or before) a position".

Four ways to find a page, chosen by the order and by how many entities the filter keeps:

- *range*: paging by id when a ``key=value`` condition drives the filter (an owner, a kind): that
  condition's range of the search index is already in id order, so the page reads its ``n`` entries
  (probing the filter's other conditions) however many entities match;
- *collect*: few entities (a team's components), or a first page by id whose filter was not measured:
  take the matches with their sort values from the search index and let the database sort them;
  cost grows with the number of matches;
- *probe*: many entities, paging by id: read entities in id order and check each against the filter;
  the page fills up after a few rows;
- *walk*: many entities and one order field: read the search index of the order key in order, from
  the position on, and stop after ``n`` matches; cost grows with the page size over the share of
  entities that match, not with the catalog.

Except for a walk, the page's entities (with their relations and problems) are read in the same
statement, and so is the total on a first page, so such a page costs one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)

from catalog_sync.store.cursor import Position
from catalog_sync.store.filters import OrderField
from catalog_sync.store.records import StoredEntity, entity_columns, entity_from_row
from catalog_sync.store.sqlfilters import FilterPlan, count_matches, sort_value
from catalog_sync.store.tables import entities, search

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import KeyedColumnElement


@dataclass(frozen=True)
class PageRequest:
    """One page to find: the matches (``plan``), their order, where to start, how many rows, what to
    read of each entity (``fields``, as in ``entity_columns``), and whether to count every match
    (``count``, for first pages only: a window count would see only the rows beyond a position)."""

    plan: FilterPlan
    order: tuple[OrderField, ...] = ()
    position: Position | None = None
    backwards: bool = False
    fetch: int = 1
    fields: Sequence[str] | None = None
    count: bool = False
    relation_types: Sequence[str] | None = None

    @property
    def id_ascending(self) -> bool:
        """Whether ids grow along the page order (ties are broken in the first field's direction)."""
        return not self.order or self.order[0].order == "asc"

    @property
    def walks(self) -> bool:
        """Whether the page is found by walking the index of its one order field."""
        return len(self.order) == 1 and self.plan.is_broad

    @property
    def ascending(self) -> bool:
        """Whether a walk reads its index upwards (a walk follows its one field, backwards or not)."""
        return (self.order[0].order == "asc") != self.backwards


@dataclass(frozen=True)
class FetchedPage:
    """Rows of a page in page order, with the number of all matches when it was asked for."""

    rows: list[tuple[Position, StoredEntity]]
    total: int | None


def counts_with_page(plan: FilterPlan, order: Sequence[OrderField]) -> bool:
    """Whether ``fetch_page`` can count the matches without a statement of its own: when how the page
    is found does not depend on that count (paging by id, or an ordered page known to be narrow)."""
    return not order or (plan.estimate is not None and not plan.is_broad)


def fetch_page(connection: Connection, request: PageRequest) -> FetchedPage:
    """Up to ``fetch`` rows after ``position`` in page order (before it, nearest first, if ``backwards``).

    With ``count`` the total is counted too: within the page's statement when ``counts_with_page``
    says so (an empty first page then means no matches), else by a statement of its own.
    """
    plan = request.plan
    if request.fetch == 0 or request.walks:
        total = connection.execute(count_matches(plan.ids())).scalar_one() if request.count else None
        if request.fetch == 0:
            return FetchedPage([], total)
        walked = _walk(connection, request)
        return FetchedPage(_with_entities(connection, walked, request.fields, request.relation_types), total)
    id_range = None if request.order else plan.id_range()
    if id_range is not None:
        query = _read_id_range(request, id_range)
    elif not request.order and plan.is_broad:
        query = _probe(request)
    else:
        query = _collect(request)
    result = connection.execute(query).all()
    rows = [
        ((*(row._mapping[f"s{index}"] for index in range(len(request.order))), row.id), entity_from_row(row))
        for row in result
    ]
    total = (int(result[0].total) if result else 0) if request.count else None
    return FetchedPage(rows, total)


def _probe(request: PageRequest) -> Select[Any]:
    """Entities in id order from the position on, each checked against the filter."""
    columns = entity_columns(request.fields, request.relation_types)
    query = select(*columns).where(request.plan.probe(entities.c.id))
    if request.count:
        query = query.add_columns(count_matches(request.plan.ids()).scalar_subquery().label("total"))
    if request.position is not None:
        last_id = request.position[-1]
        query = query.where(entities.c.id < last_id if request.backwards else entities.c.id > last_id)
    ordered = entities.c.id.desc() if request.backwards else entities.c.id.asc()
    return query.order_by(ordered).limit(request.fetch)


def _read_id_range(request: PageRequest, id_range: Select[int]) -> Select[Any]:
    """A page by id of a filter whose matches come in id order (``FilterPlan.id_range``): the page
    reads ``fetch`` entries of the index range, and a total, when asked, counts the range in the
    same statement."""
    id_column = id_range.selected_columns[0]
    page = id_range
    if request.position is not None:
        last_id = request.position[-1]
        page = page.where(id_column < last_id if request.backwards else id_column > last_id)
    ordered = id_column.desc() if request.backwards else id_column.asc()
    page_rows = page.order_by(ordered).limit(request.fetch).subquery("page")
    page_id = page_rows.c[0]
    extra = (
        [id_range.with_only_columns(func.count()).scalar_subquery().label("total")] if request.count else []
    )
    return (
        select(*entity_columns(request.fields, request.relation_types), *extra)
        .select_from(page_rows.join(entities, entities.c.id == page_id))
        .order_by(page_id.desc() if request.backwards else page_id.asc())
    )


def _collect(request: PageRequest) -> Select[Any]:
    """Every match with its sort values, sorted, cut to the page, then joined to the entities; when
    counting, a window over the matches counts them as they are collected."""
    ids = request.plan.ids()
    source = (ids if ids is not None else select(entities.c.id)).subquery("matching")
    matching_id = source.c[0]
    sort_columns = [
        sort_value(field, matching_id).label(f"s{index}") for index, field in enumerate(request.order)
    ]
    filtered = select(matching_id.label("id"), *sort_columns).subquery("filtered")
    page = select(filtered)
    if request.count:
        page = page.add_columns(func.count().over().label("total"))
    if request.position is not None:
        page = page.where(_beyond(_keys(filtered, request.order), filtered.c.id, request, request.position))
    page_rows = (
        page.order_by(*_ordering(_keys(filtered, request.order), filtered.c.id, request))
        .limit(request.fetch)
        .subquery("page")
    )
    extra: list[Any] = [page_rows.c[f"s{index}"] for index in range(len(request.order))]
    if request.count:
        extra.append(page_rows.c.total)
    return (
        select(*entity_columns(request.fields, request.relation_types), *extra)
        .select_from(page_rows.join(entities, entities.c.id == page_rows.c.id))
        .order_by(*_ordering(_keys(page_rows, request.order), page_rows.c.id, request))
    )


def _keys(rows: Any, order: Sequence[OrderField]) -> list[tuple[KeyedColumnElement[Any], str]]:
    """The sort columns ``s0``, ``s1``... of a (sub)query, each with its direction."""
    return [(rows.c[f"s{index}"], field.order) for index, field in enumerate(order)]


def _ordering(
    keys: Sequence[tuple[KeyedColumnElement[Any], str]],
    id_column: KeyedColumnElement[Any],
    request: PageRequest,
) -> list[Any]:
    """ORDER BY terms of the page order (reversed when paging backwards), missing values last."""
    ordering: list[Any] = []
    for column, direction in keys:
        ordered = column.asc() if (direction == "asc") != request.backwards else column.desc()
        ordering.append(ordered.nulls_first() if request.backwards else ordered.nulls_last())
    ordering.append(id_column.asc() if request.id_ascending != request.backwards else id_column.desc())
    return ordering


def _beyond(
    keys: Sequence[tuple[KeyedColumnElement[Any], str]],
    id_column: KeyedColumnElement[Any],
    request: PageRequest,
    position: Position,
) -> ColumnElement[bool]:
    """Rows strictly after ``position`` in page order (strictly before it when paging backwards).

    Missing values sort last, so after a NULL only NULLs further on follow, and before a value come
    the values before it but no NULL.
    """
    *values, last_id = position
    backwards = request.backwards
    larger_id = request.id_ascending != backwards
    clause: ColumnElement[bool] = id_column > last_id if larger_id else id_column < last_id
    for (column, direction), value in reversed(list(zip(keys, values, strict=True))):
        if value is None:
            beyond = column.is_not(None) if backwards else false()
            same = column.is_(None)
        else:
            larger = (direction == "asc") != backwards
            beyond = column > value if larger else column < value
            if not backwards:
                beyond = or_(beyond, column.is_(None))
            same = column == value
        clause = or_(beyond, and_(same, clause))
    return clause


def _walk(connection: Connection, request: PageRequest) -> list[Position]:
    """Walk the order key's index range (entities with a value), then the entities without one.

    Going forward the valued section comes first; going backwards from the section of missing
    values, the walk continues into the valued section from its end.
    """
    position, fetch = request.position, request.fetch
    in_missing = position is not None and position[0] is None
    if not request.backwards:
        found = [] if in_missing else _walk_values(connection, request, position, fetch)
        if len(found) < fetch:
            found += _walk_missing(connection, request, position if in_missing else None, fetch - len(found))
        return found
    found = _walk_missing(connection, request, position, fetch) if in_missing else []
    if len(found) < fetch:
        found += _walk_values(connection, request, None if in_missing else position, fetch - len(found))
    return found


def _walk_values(
    connection: Connection, request: PageRequest, position: Position | None, fetch: int
) -> list[Position]:
    """Matching entities that have a value, each at its first value in the field's direction."""
    field = request.order[0]
    row = search.alias("walked")
    other = search.alias("other_value")
    earlier = other.c.value < row.c.value if field.order == "asc" else other.c.value > row.c.value
    query = select(row.c.value, row.c.entity_id).where(
        row.c.key == field.field,
        row.c.value.is_not(None),
        not_(
            exists(
                select(literal(1)).where(
                    other.c.entity_id == row.c.entity_id, other.c.key == field.field, earlier
                )
            )
        ),
        request.plan.probe(row.c.entity_id),
    )
    if position is not None:
        value, last_id = position
        if request.ascending:
            query = query.where(
                or_(row.c.value > value, and_(row.c.value == value, row.c.entity_id > last_id))
            )
        else:
            query = query.where(
                or_(row.c.value < value, and_(row.c.value == value, row.c.entity_id < last_id))
            )
    if request.ascending:
        query = query.order_by(row.c.value.asc(), row.c.entity_id.asc())
    else:
        query = query.order_by(row.c.value.desc(), row.c.entity_id.desc())
    return [(value, entity_id) for value, entity_id in connection.execute(query.limit(fetch))]


def _walk_missing(
    connection: Connection, request: PageRequest, position: Position | None, fetch: int
) -> list[Position]:
    """Matching entities without a value for the field, by id."""
    valued = search.alias("valued")
    query = select(entities.c.id).where(
        not_(
            exists(
                select(literal(1)).where(
                    valued.c.entity_id == entities.c.id,
                    valued.c.key == request.order[0].field,
                    valued.c.value.is_not(None),
                )
            )
        ),
        request.plan.probe(entities.c.id),
    )
    if position is not None:
        query = query.where(entities.c.id > position[1] if request.ascending else entities.c.id < position[1])
    query = query.order_by(entities.c.id.asc() if request.ascending else entities.c.id.desc()).limit(fetch)
    return [(None, entity_id) for entity_id in connection.execute(query).scalars()]


def _with_entities(
    connection: Connection,
    positions: list[Position],
    fields: Sequence[str] | None,
    relation_types: Sequence[str] | None = None,
) -> list[tuple[Position, StoredEntity]]:
    """Read the entities of a page's positions (one statement), keeping the page's order."""
    if not positions:
        return []
    page_ids = [position[-1] for position in positions]
    query = select(*entity_columns(fields, relation_types)).where(entities.c.id.in_(page_ids))
    by_id = {row.id: entity_from_row(row) for row in connection.execute(query)}
    return [(position, by_id[position[-1]]) for position in positions if position[-1] in by_id]
