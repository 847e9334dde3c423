"""The read side of the catalog, shaped by what Backstage's catalog API asks for.

``CatalogReader`` answers the API's questions (by ref, by uid, by refs, by-query pages, the legacy
list, facets, counts) with a fixed, small number of indexed queries per request: filters resolve
through ``search``/``relations`` subqueries, a page's relations and problems are fetched in one query
each, and by-query pages are keyset-paged so page 1,000 costs what page 1 costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, select

from catalog_sync.errors import QueryError
from catalog_sync.store.cursor import Cursor, Position, decode_cursor, encode_cursor
from catalog_sync.store.engine import translate_errors
from catalog_sync.store.facets import FacetCache, Facets, check_facet_keys, count_facets
from catalog_sync.store.filters import EntityFilter, FullText, OrderField
from catalog_sync.store.paging import fetch_page
from catalog_sync.store.records import (
    ENTITY_COLUMNS,
    StoredEntity,
    entity_from_row,
    load_details,
    needs,
    project_fields,
)
from catalog_sync.store.sqlfilters import entity_clause, matching_ids, plan_filter
from catalog_sync.store.tables import entities

if TYPE_CHECKING:
    from catalog_sync.store.sqlfilters import IdSet

DEFAULT_LIMIT = 200
"""Backstage's default page size for by-query."""
_CHUNK = 500


@dataclass(frozen=True)
class Page:
    """One by-query page: the entities (projected to ``fields``), the total and the cursors around it."""

    items: list[dict[str, Any]]
    total_items: int
    next_cursor: str | None
    prev_cursor: str | None


class CatalogReader:
    """Everything the API reads about entities, on one engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, *, facet_cache_seconds: float = 0.0) -> None:
        self._engine = engine
        self._facet_cache = FacetCache(facet_cache_seconds)

    def get_by_ref(self, ref_key: str) -> StoredEntity | None:
        """The entity ``kind:namespace/name`` (compared case-insensitively), or None."""
        return self.get_by_refs([ref_key])[0]

    def get_by_uid(self, uid: str) -> StoredEntity | None:
        """The entity with this ``metadata.uid``, or None."""
        with translate_errors(self._engine), self._engine.connect() as connection:
            row = connection.execute(select(*ENTITY_COLUMNS).where(entities.c.uid == uid)).first()
            if row is None:
                return None
            entity = entity_from_row(row)
            load_details(connection, [entity])
            return entity

    def get_by_refs(self, ref_keys: Sequence[str]) -> list[StoredEntity | None]:
        """The entities named, in the order asked, None where a ref names nothing (Backstage's by-refs)."""
        keys = [ref.lower() for ref in ref_keys]
        found: dict[str, StoredEntity] = {}
        with translate_errors(self._engine), self._engine.connect() as connection:
            unique = sorted(set(keys))
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start : start + _CHUNK]
                rows = connection.execute(select(*ENTITY_COLUMNS).where(entities.c.ref_key.in_(chunk)))
                for row in rows:
                    found[row.ref_key] = entity_from_row(row)
            load_details(connection, list(found.values()))
        return [found.get(key) for key in keys]

    def count_entities(self, entity_filter: EntityFilter | None = None) -> int:
        """How many entities match a filter."""
        with translate_errors(self._engine), self._engine.connect() as connection:
            return _count(connection, matching_ids(connection, entity_filter))

    def list_entities(
        self,
        entity_filter: EntityFilter | None = None,
        fields: Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """The legacy ``GET /entities`` list: filtered, ordered by entity ref, offset-paged."""
        if limit is not None and limit < 0:
            raise QueryError("limit", "the limit must not be negative")
        if offset < 0:
            raise QueryError("offset", "the offset must not be negative")
        with translate_errors(self._engine), self._engine.connect() as connection:
            query = (
                select(*ENTITY_COLUMNS)
                .where(entity_clause(matching_ids(connection, entity_filter)))
                .order_by(entities.c.ref_key)
                .limit(limit)
                .offset(offset)
            )
            items = [entity_from_row(row) for row in connection.execute(query)]
            _load_for_fields(connection, items, fields)
        return [project_fields(item.to_entity_dict(), fields) for item in items]

    def facets(
        self, facet_keys: Sequence[str], entity_filter: EntityFilter | None = None
    ) -> dict[str, list[tuple[str, int]]]:
        """Distinct values of each key with their entity counts, among the entities a filter keeps.

        With ``facet_cache_seconds`` set, an answer may be reused for that long (see ``FacetCache``).
        """
        check_facet_keys(facet_keys)

        def compute() -> Facets:
            with translate_errors(self._engine), self._engine.connect() as connection:
                return count_facets(connection, facet_keys, entity_filter)

        return self._facet_cache.get_or_compute((tuple(facet_keys), entity_filter), compute)

    def query_entities(
        self,
        entity_filter: EntityFilter | None = None,
        *,
        fields: Sequence[str] | None = None,
        order: Sequence[OrderField] = (),
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
        full_text: FullText | None = None,
    ) -> Page:
        """One page of Backstage's ``/entities/by-query``.

        Without a cursor, the filter, order and full-text term define the query; with one, they come
        from the cursor and the arguments are ignored, as in Backstage. The order is described in
        ``paging``; without order fields it is by entity id (Backstage's default).
        """
        if limit < 0:
            raise QueryError("limit", "the limit must not be negative")
        state = decode_cursor(cursor) if cursor else None
        if state is not None:
            entity_filter, order, full_text = state.filter, state.order, state.full_text
        order = tuple(order)
        backwards = state is not None and state.is_previous
        with translate_errors(self._engine), self._engine.connect() as connection:
            plan = plan_filter(connection, entity_filter, full_text, measure=False)
            total = state.total_items if state is not None else _count(connection, plan.ids())
            plan = plan.with_estimate(total)
            rows: list[tuple[Position, StoredEntity]] = []
            if limit > 0:
                fetch = limit if backwards else limit + 1
                rows = fetch_page(
                    connection, plan, order, state.position if state else None, backwards, fetch
                )
            if backwards:
                rows.reverse()
            has_more = limit > 0 and (backwards or len(rows) > limit)
            rows = rows[:limit]
            items = [entity for _, entity in rows]
            _load_for_fields(connection, items, fields)
        first = state.first if state else (rows[0][0] if rows else None)

        def make(position: Position, previous: bool) -> str:
            return encode_cursor(Cursor(entity_filter, order, full_text, position, previous, first, total))

        next_cursor = make(rows[-1][0], False) if has_more and rows else None
        at_start = state is None or not rows or rows[0][0] == state.first
        prev_cursor = None if at_start else make(rows[0][0], True)
        return Page(
            items=[project_fields(item.to_entity_dict(), fields) for item in items],
            total_items=total,
            next_cursor=next_cursor,
            prev_cursor=prev_cursor,
        )


def _count(connection: Connection, ids: IdSet | None) -> int:
    """How many entities are in the set (the whole catalog when there is no filter)."""
    if ids is None:
        query = select(func.count()).select_from(entities)
    else:
        query = select(func.count()).select_from(ids.subquery())
    return int(connection.execute(query).scalar_one())


def _load_for_fields(connection: Connection, items: list[StoredEntity], fields: Sequence[str] | None) -> None:
    load_details(
        connection,
        items,
        with_relations=needs(fields, "relations"),
        with_problems=needs(fields, "status"),
    )
