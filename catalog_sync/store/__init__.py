"""The catalog's storage: SQLite or PostgreSQL through SQLAlchemy Core.

What lives here: the tables (``tables``), opening the database (``engine``), the schema's migrations
(``migrate``, which alone loads Alembic), the flattening of entities into searchable rows
(``search``), Backstage's filter syntax (``filters``) and its SQL (``sqlfilters``), and the read side
the API uses (``queries``). The sync pass holds a ``SyncStore`` (``sync_store``), implemented by
``sync_sql`` over ``repos`` (claims, runs), ``listing`` (what sources list), ``writer`` (applying
plans) and ``orphans`` (expiry); the search rows themselves are built by ``catalog_sync.searchrows``.
The notifications outbox (``outbox``) is written by the scoring, KPI and sync stores inside their own
transactions, and read by the delivery loop (claims) and the API.
Import the modules themselves: this package imports nothing, so a command pays only for what it
uses (``catalog-sync sync`` never loads Alembic when the schema is current).
"""
