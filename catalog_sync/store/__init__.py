"""The catalog's storage: SQLite or PostgreSQL through SQLAlchemy Core.

What lives here: the tables (``tables``), opening the database (``engine``), the schema's migrations
(``migrate``), the flattening of entities into searchable rows (``search``), Backstage's filter syntax
(``filters``) and its SQL (``sqlfilters``), and the read side the API uses (``queries``). Writers
(reconcile, scoring, sync) use the tables directly through their own small modules.
"""

from __future__ import annotations

from catalog_sync.store.engine import check_ready, open_engine
from catalog_sync.store.filters import EntityFilter, FullText, OrderField, parse_filters
from catalog_sync.store.migrate import current_revision, upgrade
from catalog_sync.store.queries import CatalogReader, Page
from catalog_sync.store.records import StoredEntity, StoredProblem, project_fields

__all__ = [
    "CatalogReader",
    "EntityFilter",
    "FullText",
    "OrderField",
    "Page",
    "StoredEntity",
    "StoredProblem",
    "check_ready",
    "current_revision",
    "open_engine",
    "parse_filters",
    "project_fields",
    "upgrade",
]
