"""Keyset paging of by-query results, in the order Backstage defines.

Entities are ordered by the order fields' values, missing values last, then by entity id in the
direction of the first order field (as Backstage does), so equal values can never make an entity
appear twice or not at all. A position is the sort values of a row and its id; a page is "the next
``n`` rows after (or before) a position".

Two ways to find a page, chosen by how many entities the filter keeps:

- *collect*: few entities (an owner, a team's components): compute every match's sort value from
  the search index and let the database sort them; cost grows with the number of matches;
- *walk*: many entities (no filter, ``kind=component``) and one order field: read the search index
  of the order key in order, from the position on, and stop after ``n`` matches; cost grows with
  the page size over the share of entities that match, not with the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, and_, exists, false, literal, not_, or_, select

from catalog_sync.store.cursor import Position
from catalog_sync.store.filters import OrderField
from catalog_sync.store.records import ENTITY_COLUMNS, StoredEntity, entity_from_row
from catalog_sync.store.sqlfilters import FilterPlan, entity_clause, sort_value
from catalog_sync.store.tables import entities, search

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import KeyedColumnElement


def fetch_page(
    connection: Connection,
    plan: FilterPlan,
    order: Sequence[OrderField],
    position: Position | None,
    backwards: bool,
    fetch: int,
) -> list[tuple[Position, StoredEntity]]:
    """Up to ``fetch`` rows after ``position`` in page order (before it, nearest first, if ``backwards``)."""
    if not order:
        return _by_id(connection, plan, position, backwards, fetch)
    if len(order) == 1 and plan.is_broad:
        positions = _walk(connection, plan, order[0], position, backwards, fetch)
    else:
        positions = _collect(connection, plan, order, position, backwards, fetch)
    return _with_entities(connection, positions)


def _by_id(
    connection: Connection, plan: FilterPlan, position: Position | None, backwards: bool, fetch: int
) -> list[tuple[Position, StoredEntity]]:
    # A broad filter is checked row by row while reading entities in id order (the page fills up
    # quickly); a narrow one is collected first and its few ids read.
    matching = plan.probe(entities.c.id) if plan.is_broad else entity_clause(plan.ids())
    query = select(*ENTITY_COLUMNS).where(matching)
    if position is not None:
        query = query.where(entities.c.id < position[0] if backwards else entities.c.id > position[0])
    query = query.order_by(entities.c.id.desc() if backwards else entities.c.id.asc()).limit(fetch)
    return [((row.id,), entity_from_row(row)) for row in connection.execute(query)]


def _collect(
    connection: Connection,
    plan: FilterPlan,
    order: Sequence[OrderField],
    position: Position | None,
    backwards: bool,
    fetch: int,
) -> list[Position]:
    ids = plan.ids()
    source = (ids if ids is not None else select(entities.c.id)).subquery("matching")
    matching_id = source.c[0]
    sort_columns = [sort_value(field, matching_id).label(f"s{index}") for index, field in enumerate(order)]
    filtered = select(matching_id.label("id"), *sort_columns).subquery("filtered")
    keys = [(filtered.c[f"s{index}"], field.order) for index, field in enumerate(order)]
    id_ascending = order[0].order == "asc"
    query = select(filtered)
    if position is not None:
        query = query.where(_beyond(keys, filtered.c.id, id_ascending, position, backwards))
    ordering: list[Any] = []
    for column, direction in keys:
        ordered = column.asc() if (direction == "asc") != backwards else column.desc()
        ordering.append(ordered.nulls_first() if backwards else ordered.nulls_last())
    ordering.append(filtered.c.id.asc() if id_ascending != backwards else filtered.c.id.desc())
    return [
        (*(row._mapping[f"s{index}"] for index in range(len(order))), row.id)
        for row in connection.execute(query.order_by(*ordering).limit(fetch))
    ]


def _beyond(
    keys: Sequence[tuple[KeyedColumnElement[Any], str]],
    id_column: KeyedColumnElement[Any],
    id_ascending: bool,
    position: Position,
    backwards: bool,
) -> ColumnElement[bool]:
    """Rows strictly after ``position`` in page order (strictly before it when paging backwards).

    Missing values sort last, so after a NULL only NULLs further on follow, and before a value come
    the values before it but no NULL.
    """
    *values, last_id = position
    larger_id = id_ascending != backwards
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


def _walk(
    connection: Connection,
    plan: FilterPlan,
    field: OrderField,
    position: Position | None,
    backwards: bool,
    fetch: int,
) -> list[Position]:
    """Walk the order key's index range (entities with a value), then the entities without one.

    Going forward the valued section comes first; going backwards from the section of missing
    values, the walk continues into the valued section from its end.
    """
    in_missing = position is not None and position[0] is None
    if not backwards:
        found = [] if in_missing else _walk_values(connection, plan, field, position, False, fetch)
        if len(found) < fetch:
            after = position if in_missing else None
            found += _walk_missing(connection, plan, field, after, False, fetch - len(found))
        return found
    found = _walk_missing(connection, plan, field, position, True, fetch) if in_missing else []
    if len(found) < fetch:
        before = None if in_missing else position
        found += _walk_values(connection, plan, field, before, True, fetch - len(found))
    return found


def _walk_values(
    connection: Connection,
    plan: FilterPlan,
    field: OrderField,
    position: Position | None,
    backwards: bool,
    fetch: int,
) -> list[Position]:
    """Matching entities that have a value, each at its first value in the field's direction."""
    ascending = (field.order == "asc") != backwards
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
        plan.probe(row.c.entity_id),
    )
    if position is not None:
        value, last_id = position
        if ascending:
            query = query.where(
                or_(row.c.value > value, and_(row.c.value == value, row.c.entity_id > last_id))
            )
        else:
            query = query.where(
                or_(row.c.value < value, and_(row.c.value == value, row.c.entity_id < last_id))
            )
    if ascending:
        query = query.order_by(row.c.value.asc(), row.c.entity_id.asc())
    else:
        query = query.order_by(row.c.value.desc(), row.c.entity_id.desc())
    return [(value, entity_id) for value, entity_id in connection.execute(query.limit(fetch))]


def _walk_missing(
    connection: Connection,
    plan: FilterPlan,
    field: OrderField,
    position: Position | None,
    backwards: bool,
    fetch: int,
) -> list[Position]:
    """Matching entities without a value for the field, by id."""
    ascending = (field.order == "asc") != backwards
    valued = search.alias("valued")
    query = select(entities.c.id).where(
        not_(
            exists(
                select(literal(1)).where(
                    valued.c.entity_id == entities.c.id,
                    valued.c.key == field.field,
                    valued.c.value.is_not(None),
                )
            )
        ),
        plan.probe(entities.c.id),
    )
    if position is not None:
        query = query.where(entities.c.id > position[1] if ascending else entities.c.id < position[1])
    query = query.order_by(entities.c.id.asc() if ascending else entities.c.id.desc()).limit(fetch)
    return [(None, entity_id) for entity_id in connection.execute(query).scalars()]


def _with_entities(connection: Connection, positions: list[Position]) -> list[tuple[Position, StoredEntity]]:
    """Read the entity rows of a page's positions, keeping the page's order."""
    if not positions:
        return []
    page_ids = [position[-1] for position in positions]
    by_id = {
        row.id: entity_from_row(row)
        for row in connection.execute(select(*ENTITY_COLUMNS).where(entities.c.id.in_(page_ids)))
    }
    return [(position, by_id[position[-1]]) for position in positions if position[-1] in by_id]
