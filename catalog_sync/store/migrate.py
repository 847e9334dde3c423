"""Creating and migrating the schema with Alembic, driven from code.

``catalog-sync db upgrade`` calls ``upgrade`` for PostgreSQL, and an embedded SQLite database is
upgraded at every start, so no ``alembic.ini`` has to ship or be found. Upgrades are safe to run
twice and from several processes at once: on PostgreSQL an advisory lock serialises them, on SQLite
the whole upgrade is one ``BEGIN IMMEDIATE`` transaction (SQLite's DDL is transactional).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from catalog_sync.store.engine import lock_writes, translate_errors

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK_ID = 0x63617461  # "cata": any constant shared by every catalog-sync process


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default); a no-op when it is already there."""
    with translate_errors(engine), engine.connect() as connection:
        lock_writes(connection, _ADVISORY_LOCK_ID)  # concurrent upgrades never create a table twice
        config = _config(connection)
        command.upgrade(config, revision)
        connection.commit()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, None for an empty database."""
    with translate_errors(engine), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision this version of catalog-sync knows, to tell whether an upgrade is due."""
    head = ScriptDirectory.from_config(_config(None)).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise RuntimeError("no migrations found")
    return head


def _config(connection: Connection | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config
