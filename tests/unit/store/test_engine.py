"""Opening databases: SQLite settings, URL spellings, and unreachable databases reported cleanly."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from catalog_sync.errors import StoreError
from catalog_sync.store.engine import check_ready, open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.queries import CatalogReader


def test_a_sqlite_file_gets_its_folder_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "catalog.db"
    engine = open_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    assert path.exists()
    check_ready(engine)
    engine.dispose()


def test_in_memory_sqlite_keeps_its_data_across_connections() -> None:
    engine = open_engine("sqlite://")
    upgrade(engine)
    assert CatalogReader(engine).count_entities() == 0
    with engine.connect() as connection:
        assert "entities" in {row[0] for row in connection.execute(text("SELECT name FROM sqlite_master"))}
    engine.dispose()


@pytest.mark.parametrize("url", ["postgresql://u@db/c", "postgres://u@db/c", "postgresql+psycopg://u@db/c"])
def test_postgres_urls_use_psycopg_3(url: str) -> None:
    engine = open_engine(url)
    assert engine.url.drivername == "postgresql+psycopg"
    assert engine.dialect.driver == "psycopg"


def test_other_databases_and_unreadable_urls_are_refused() -> None:
    with pytest.raises(StoreError, match="unsupported"):
        open_engine("mysql://u@db/c")
    with pytest.raises(StoreError):
        open_engine("not a url")
    with pytest.raises(StoreError, match="psycopg"):
        open_engine("postgresql+psycopg2://u@db/c")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_postgres_is_a_store_error_without_credentials() -> None:
    engine = open_engine(f"postgresql://catalog:s3cret-pw@127.0.0.1:{_closed_port()}/catalog")
    with pytest.raises(StoreError) as raised:
        check_ready(engine)
    message = str(raised.value)
    assert "127.0.0.1" in message
    assert "s3cret-pw" not in message
    assert "catalog:" not in message


def test_an_unreadable_sqlite_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    path.write_bytes(b"this is not a database, just some text " * 200)
    engine = open_engine(f"sqlite:///{path}")
    with pytest.raises(StoreError):
        check_ready(engine)


def test_a_reachable_database_is_ready(store_engine: Engine) -> None:
    check_ready(store_engine)
