"""The read side of the catalog, shaped by what Backstage's catalog API asks for.

``CatalogReader`` answers the API's questions (by ref, by uid, by refs, by-query pages, the legacy
list, facets, counts) with a fixed, small number of indexed statements per request: filters resolve
through ``search``/``relations`` subqueries, entities are read with their relations and problems in
the same statement (``records.entity_columns``), and by-query pages are keyset-paged so page 1,000
costs what page 1 costs. A first by-query page by id (the portal's usual question: an owner's
entities) is one statement, its total included. Every method takes an optional connection, so an API
request can run all its statements on one connection; without one a method uses its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from catalog_sync.errors import QueryError
from catalog_sync.store.cursor import Cursor, Position, decode_cursor, encode_cursor
from catalog_sync.store.engine import reading
from catalog_sync.store.facets import FacetCache, Facets, check_facet_keys, count_facets
from catalog_sync.store.filters import EntityFilter, FullText, OrderField, check_condition_count
from catalog_sync.store.paging import PageRequest, counts_with_page, fetch_page
from catalog_sync.store.records import StoredEntity, entity_columns, entity_from_row, project_fields
from catalog_sync.store.sqlfilters import count_matches, entity_clause, matching_ids, plan_filter
from catalog_sync.store.tables import entities

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

    def __init__(
        self, engine: Engine, *, facet_cache_seconds: float = 0.0, max_filter_conditions: int | None = None
    ) -> None:
        self._engine = engine
        self._facet_cache = FacetCache(facet_cache_seconds)
        self._max_filter_conditions = max_filter_conditions

    def get_by_ref(self, ref_key: str, *, connection: Connection | None = None) -> StoredEntity | None:
        """The entity ``kind:namespace/name`` (compared case-insensitively), or None."""
        return self.get_by_refs([ref_key], connection=connection)[0]

    def get_by_uid(self, uid: str, *, connection: Connection | None = None) -> StoredEntity | None:
        """The entity with this ``metadata.uid``, or None."""
        with reading(self._engine, connection) as conn:
            row = conn.execute(select(*entity_columns()).where(entities.c.uid == uid)).first()
        return entity_from_row(row) if row is not None else None

    def get_by_refs(
        self, ref_keys: Sequence[str], *, connection: Connection | None = None
    ) -> list[StoredEntity | None]:
        """The entities named, in the order asked, None where a ref names nothing (Backstage's by-refs)."""
        keys = [ref.lower() for ref in ref_keys]
        found: dict[str, StoredEntity] = {}
        unique = sorted(set(keys))
        with reading(self._engine, connection) as conn:
            for start in range(0, len(unique), _CHUNK):
                query = select(*entity_columns()).where(
                    entities.c.ref_key.in_(unique[start : start + _CHUNK])
                )
                for row in conn.execute(query):
                    found[row.ref_key] = entity_from_row(row)
        return [found.get(key) for key in keys]

    def count_entities(
        self, entity_filter: EntityFilter | None = None, *, connection: Connection | None = None
    ) -> int:
        """How many entities match a filter."""
        with reading(self._engine, connection) as conn:
            return int(conn.execute(count_matches(matching_ids(conn, entity_filter))).scalar_one())

    def list_entities(
        self,
        entity_filter: EntityFilter | None = None,
        fields: Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        *,
        connection: Connection | None = None,
    ) -> list[dict[str, Any]]:
        """The legacy ``GET /entities`` list: filtered, ordered by entity ref, offset-paged."""
        if limit is not None and limit < 0:
            raise QueryError("limit", "the limit must not be negative")
        if offset < 0:
            raise QueryError("offset", "the offset must not be negative")
        with reading(self._engine, connection) as conn:
            query = (
                select(*entity_columns(fields))
                .where(entity_clause(matching_ids(conn, entity_filter)))
                .order_by(entities.c.ref_key)
                .limit(limit)
                .offset(offset)
            )
            items = [entity_from_row(row) for row in conn.execute(query)]
        return [project_fields(item.to_entity_dict(), fields) for item in items]

    def facets(
        self,
        facet_keys: Sequence[str],
        entity_filter: EntityFilter | None = None,
        *,
        connection: Connection | None = None,
    ) -> Facets:
        """Distinct values of each key with their entity counts, among the entities a filter keeps.

        With ``facet_cache_seconds`` set, an answer may be reused for that long (see ``FacetCache``);
        a reused answer needs no database at all.
        """
        check_facet_keys(facet_keys)

        def compute() -> Facets:
            with reading(self._engine, connection) as conn:
                return count_facets(conn, facet_keys, entity_filter)

        return self._facet_cache.get_or_compute((tuple(facet_keys), entity_filter), compute)

    def forget_facets(self) -> None:
        """Drop cached facets, after a write through this process (deleting an orphan, say)."""
        self._facet_cache.clear()

    def query_entities(
        self,
        entity_filter: EntityFilter | None = None,
        *,
        fields: Sequence[str] | None = None,
        order: Sequence[OrderField] = (),
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
        full_text: FullText | None = None,
        connection: Connection | None = None,
        relation_types: Sequence[str] | None = None,
    ) -> Page:
        """One page of Backstage's ``/entities/by-query``.

        Without a cursor, the filter, order and full-text term define the query; with one, they come
        from the cursor and the arguments are ignored, as in Backstage. The order is described in
        ``paging``; without order fields it is by entity id (Backstage's default). The total is
        counted on the first page only and carried by the cursors.
        """
        if limit < 0:
            raise QueryError("limit", "the limit must not be negative")
        state = decode_cursor(cursor) if cursor else None
        if state is not None:
            if self._max_filter_conditions is not None:
                # A cursor comes back from the client: its filter is held to the request's limit too.
                check_condition_count(state.filter, self._max_filter_conditions, "cursor")
            entity_filter, order, full_text = state.filter, state.order, state.full_text
        order = tuple(order)
        backwards = state is not None and state.is_previous
        with reading(self._engine, connection) as conn:
            plan = plan_filter(conn, entity_filter, full_text, measure=False)
            total = state.total_items if state is not None else None
            if total is None and not counts_with_page(plan, order):
                total = int(conn.execute(count_matches(plan.ids())).scalar_one())
            if total is not None:
                plan = plan.with_estimate(total)
            request = PageRequest(
                plan,
                order,
                position=state.position if state else None,
                backwards=backwards,
                fetch=limit if backwards or limit == 0 else limit + 1,
                fields=fields,
                count=total is None,
                relation_types=relation_types,
            )
            fetched = fetch_page(conn, request)
        total = total if total is not None else fetched.total or 0
        rows = list(reversed(fetched.rows)) if backwards else fetched.rows
        has_more = limit > 0 and (backwards or len(rows) > limit)
        rows = rows[:limit]
        first = state.first if state else (rows[0][0] if rows else None)

        def make(position: Position, previous: bool) -> str:
            return encode_cursor(Cursor(entity_filter, order, full_text, position, previous, first, total))

        next_cursor = make(rows[-1][0], False) if has_more and rows else None
        at_start = state is None or not rows or rows[0][0] == state.first
        prev_cursor = None if at_start else make(rows[0][0], True)
        return Page(
            items=[project_fields(entity.to_entity_dict(), fields) for _, entity in rows],
            total_items=total,
            next_cursor=next_cursor,
            prev_cursor=prev_cursor,
        )
