"""``CatalogReads``: everything the catalog API and the portal read, through the request's read unit.

The HTTP edge holds this protocol, never an engine: every read takes the ``Transaction`` the request
opened (``Database.open_reading``), so one request checks out one pooled connection whatever it asks.
``SqlCatalogReads`` is the one implementation, over SQLite and PostgreSQL; it answers with the
indexed statements of ``queries.CatalogReader`` (entities) and ``repo_queries.RepositoryReader``
(sources, repositories, locations, passes), and streams the catalog's envelopes for the Backstage
export, whose mapping (``catalog_sync.export``) stays free of SQL.

The keyword ``connection`` names the request's read unit (``plugin_api.state.connection()``), an opaque
``Transaction``; only this package can see the connection inside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from sqlalchemy import select

from catalog_sync.config import AnySourceSettings
from catalog_sync.model import ORPHAN_ANNOTATION
from catalog_sync.store.base import Database, Transaction, connection_of
from catalog_sync.store.engine import translate_errors
from catalog_sync.store.facets import Facets
from catalog_sync.store.filters import EntityFilter, FullText, OrderField
from catalog_sync.store.queries import DEFAULT_LIMIT, CatalogReader, Page
from catalog_sync.store.records import StoredEntity
from catalog_sync.store.repo_queries import (
    ListPage,
    LocationRecord,
    RepositoryReader,
    RepositoryRecord,
    SourceSummary,
)
from catalog_sync.store.tables import entities

EXPORT_CHUNK = 500
"""Envelopes read per round trip while the export streams the catalog."""


class CatalogReads(Protocol):
    """What the catalog API and the portal read: entities, facets, repositories, locations, passes."""

    def get_by_ref(self, ref_key: str, *, connection: Transaction) -> StoredEntity | None:
        """The entity ``kind:namespace/name`` (compared case-insensitively), or None."""
        ...

    def get_by_uid(self, uid: str, *, connection: Transaction) -> StoredEntity | None:
        """The entity with this ``metadata.uid``, or None."""
        ...

    def get_by_refs(self, ref_keys: Sequence[str], *, connection: Transaction) -> list[StoredEntity | None]:
        """The entities named, in the order asked, None where a ref names nothing."""
        ...

    def list_entities(
        self,
        entity_filter: EntityFilter | None,
        fields: Sequence[str] | None,
        limit: int | None,
        offset: int,
        *,
        connection: Transaction,
    ) -> list[dict[str, Any]]:
        """The legacy ``GET /entities`` list: filtered, ordered by entity ref, offset-paged."""
        ...

    def query_entities(
        self,
        entity_filter: EntityFilter | None = None,
        *,
        fields: Sequence[str] | None = None,
        order: Sequence[OrderField] = (),
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
        full_text: FullText | None = None,
        connection: Transaction,
        relation_types: Sequence[str] | None = None,
    ) -> Page:
        """One page of Backstage's ``/entities/by-query``; ``relation_types`` keeps only those
        relations on each entity (a page that shows owners reads only ``ownedBy``)."""
        ...

    def refs_matching(
        self, ref_keys: Iterable[str], entity_filter: EntityFilter, *, connection: Transaction
    ) -> set[str]:
        """Which of these entities a filter keeps."""
        ...

    def facets(
        self,
        facet_keys: Sequence[str],
        entity_filter: EntityFilter | None = None,
        *,
        connection: Transaction | None = None,
    ) -> Facets:
        """Values of some keys with their counts; a cached answer needs no unit, so it is optional."""
        ...

    def forget_facets(self) -> None:
        """Drop cached facets after a write through this process."""
        ...

    def list_sources(
        self, configured: Sequence[AnySourceSettings], *, connection: Transaction
    ) -> list[SourceSummary]:
        """The configured sources, then the ``registered`` one when repositories were registered."""
        ...

    def list_repositories(
        self,
        *,
        source: str | None,
        state: str | None,
        after_id: int | None,
        limit: int,
        connection: Transaction,
    ) -> ListPage:
        """A page of repositories ordered by id, optionally of one source and in one state."""
        ...

    def get_repository(self, repository_id: int, *, connection: Transaction) -> RepositoryRecord:
        """One repository with its entity count and problems (``NotFoundError`` if there is none)."""
        ...

    def list_sync_runs(self, *, before_id: int | None, limit: int, connection: Transaction) -> ListPage:
        """The most recent passes first."""
        ...

    def list_locations(self, *, connection: Transaction) -> list[LocationRecord]:
        """Every descriptor file of every repository still in the catalog."""
        ...

    def get_location(self, location_id: str, *, connection: Transaction) -> LocationRecord:
        """One location by the id ``list_locations`` gave it."""
        ...

    def iter_documents(
        self,
        *,
        kinds: Sequence[str] | None = None,
        excluded: Sequence[str] = (),
        connection: Transaction,
    ) -> Iterator[dict[str, Any]]:
        """Stored envelopes ordered by ref, of ``kinds`` (all when None) but none of ``excluded``.

        Orphans carry Backstage's orphan annotation. Rows are read ``EXPORT_CHUNK`` at a time, so an
        export's memory does not grow with the catalog.
        """
        ...

    def ref_keys_of_kinds(self, kinds: Sequence[str], *, connection: Transaction) -> list[str]:
        """The ref keys of every entity of these kinds."""
        ...


class SqlCatalogReads:
    """``CatalogReads`` over SQLite or PostgreSQL."""

    def __init__(
        self,
        database: Database,
        *,
        facet_cache_seconds: float = 0.0,
        max_filter_conditions: int | None = None,
    ) -> None:
        self._engine = database.engine
        self._entities = CatalogReader(
            database.engine,
            facet_cache_seconds=facet_cache_seconds,
            max_filter_conditions=max_filter_conditions,
        )
        self._repositories = RepositoryReader(database.engine)

    def get_by_ref(self, ref_key: str, *, connection: Transaction) -> StoredEntity | None:
        """See ``CatalogReads``."""
        return self._entities.get_by_ref(ref_key, connection=connection_of(connection))

    def get_by_uid(self, uid: str, *, connection: Transaction) -> StoredEntity | None:
        """See ``CatalogReads``."""
        return self._entities.get_by_uid(uid, connection=connection_of(connection))

    def get_by_refs(self, ref_keys: Sequence[str], *, connection: Transaction) -> list[StoredEntity | None]:
        """See ``CatalogReads``."""
        return self._entities.get_by_refs(ref_keys, connection=connection_of(connection))

    def list_entities(
        self,
        entity_filter: EntityFilter | None,
        fields: Sequence[str] | None,
        limit: int | None,
        offset: int,
        *,
        connection: Transaction,
    ) -> list[dict[str, Any]]:
        """See ``CatalogReads``."""
        return self._entities.list_entities(
            entity_filter, fields, limit, offset, connection=connection_of(connection)
        )

    def query_entities(
        self,
        entity_filter: EntityFilter | None = None,
        *,
        fields: Sequence[str] | None = None,
        order: Sequence[OrderField] = (),
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
        full_text: FullText | None = None,
        connection: Transaction,
        relation_types: Sequence[str] | None = None,
    ) -> Page:
        """See ``CatalogReads``."""
        return self._entities.query_entities(
            entity_filter,
            fields=fields,
            order=order,
            cursor=cursor,
            limit=limit,
            full_text=full_text,
            connection=connection_of(connection),
            relation_types=relation_types,
        )

    def refs_matching(
        self, ref_keys: Iterable[str], entity_filter: EntityFilter, *, connection: Transaction
    ) -> set[str]:
        """See ``CatalogReads``."""
        return self._repositories.refs_matching(ref_keys, entity_filter, connection=connection_of(connection))

    def facets(
        self,
        facet_keys: Sequence[str],
        entity_filter: EntityFilter | None = None,
        *,
        connection: Transaction | None = None,
    ) -> Facets:
        """See ``CatalogReads``."""
        conn = connection_of(connection) if connection is not None else None
        return self._entities.facets(facet_keys, entity_filter, connection=conn)

    def forget_facets(self) -> None:
        """See ``CatalogReads``."""
        self._entities.forget_facets()

    def list_sources(
        self, configured: Sequence[AnySourceSettings], *, connection: Transaction
    ) -> list[SourceSummary]:
        """See ``CatalogReads``."""
        return self._repositories.list_sources(configured, connection=connection_of(connection))

    def list_repositories(
        self,
        *,
        source: str | None,
        state: str | None,
        after_id: int | None,
        limit: int,
        connection: Transaction,
    ) -> ListPage:
        """See ``CatalogReads``."""
        return self._repositories.list_repositories(
            source=source, state=state, after_id=after_id, limit=limit, connection=connection_of(connection)
        )

    def get_repository(self, repository_id: int, *, connection: Transaction) -> RepositoryRecord:
        """See ``CatalogReads``."""
        return self._repositories.get_repository(repository_id, connection=connection_of(connection))

    def list_sync_runs(self, *, before_id: int | None, limit: int, connection: Transaction) -> ListPage:
        """See ``CatalogReads``."""
        return self._repositories.list_sync_runs(
            before_id=before_id, limit=limit, connection=connection_of(connection)
        )

    def list_locations(self, *, connection: Transaction) -> list[LocationRecord]:
        """See ``CatalogReads``."""
        return self._repositories.list_locations(connection=connection_of(connection))

    def get_location(self, location_id: str, *, connection: Transaction) -> LocationRecord:
        """See ``CatalogReads``."""
        return self._repositories.get_location(location_id, connection=connection_of(connection))

    def iter_documents(
        self,
        *,
        kinds: Sequence[str] | None = None,
        excluded: Sequence[str] = (),
        connection: Transaction,
    ) -> Iterator[dict[str, Any]]:
        """See ``CatalogReads``."""
        # Keyset chunks rather than a server-side cursor: a request's read unit on PostgreSQL runs in
        # autocommit, where no cursor can be declared.
        query = select(entities.c.ref_key, entities.c.body, entities.c.orphaned_at)
        if kinds is not None:
            query = query.where(entities.c.kind.in_(list(kinds)))
        if excluded:
            query = query.where(entities.c.kind.not_in(list(excluded)))
        conn, last = connection_of(connection), None
        while True:
            chunk = query if last is None else query.where(entities.c.ref_key > last)
            with translate_errors(self._engine):
                rows = conn.execute(chunk.order_by(entities.c.ref_key).limit(EXPORT_CHUNK)).all()
            for row in rows:
                yield stored_document(row.body, row.orphaned_at is not None)
            if len(rows) < EXPORT_CHUNK:
                return
            last = rows[-1].ref_key

    def ref_keys_of_kinds(self, kinds: Sequence[str], *, connection: Transaction) -> list[str]:
        """See ``CatalogReads``."""
        query = select(entities.c.ref_key).where(entities.c.kind.in_(list(kinds)))
        with translate_errors(self._engine):
            return list(connection_of(connection).execute(query).scalars())


def stored_document(body: str, orphaned: bool) -> dict[str, Any]:
    """A stored envelope, with Backstage's orphan annotation when its descriptor is gone."""
    entity: dict[str, Any] = json.loads(body)
    if orphaned:
        metadata = entity.setdefault("metadata", {})
        metadata["annotations"] = {**(metadata.get("annotations") or {}), ORPHAN_ANNOTATION: "true"}
    return entity
