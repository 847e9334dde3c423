"""Alembic's environment for catalog-sync: always given a live connection by ``store.migrate``.

There is no ``alembic.ini``: ``migrate.upgrade`` builds the configuration in code and passes its
connection in ``config.attributes``, so the same code path serves ``catalog-sync db upgrade``, the
automatic upgrade of an embedded SQLite database at start, and the tests.
"""

from __future__ import annotations

from alembic import context

from catalog_sync.store.tables import metadata


def run_migrations() -> None:
    """Apply the pending migrations on the connection ``store.migrate`` handed over."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("catalog-sync migrations run through catalog_sync.store.migrate.upgrade")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
