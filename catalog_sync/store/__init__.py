"""The catalog's storage: SQLite or PostgreSQL through SQLAlchemy Core.

What lives here: the tables (``tables``), opening the database (``engine``), the schema's migrations
(``migrate``, which alone loads Alembic), the flattening of entities into searchable rows
(``search``), Backstage's filter syntax (``filters``) and its SQL (``sqlfilters``), and the read side
the API uses (``queries``). Writers (reconcile, scoring, sync) use the tables directly through their
own small modules. Import the modules themselves: this package imports nothing, so a command pays
only for what it uses (``catalog-sync sync`` never loads Alembic when the schema is current).
"""
