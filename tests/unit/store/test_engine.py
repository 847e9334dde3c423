"""Opening databases: SQLite settings, URL spellings, and unreachable databases reported cleanly."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from catalog_sync.errors import StoreError
from catalog_sync.store.engine import check_ready, open_engine, read_connection
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.queries import CatalogReader
from tests.fixtures.postgres import PostgresCluster


def test_a_sqlite_file_gets_its_folder_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "catalog.db"
    engine = open_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() >= 5000
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


def _terminate_backends(cluster: PostgresCluster, engine: Engine) -> None:
    """End every server process of the engine's database, as an administrator (or a restart) does,
    and wait until they are gone."""
    database = {"name": engine.url.database}
    with cluster.admin().connect() as admin:
        admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            database,
        )
        deadline = time.monotonic() + 10
        count = text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name")
        while admin.execute(count, database).scalar_one():
            assert time.monotonic() < deadline, "the terminated backends did not go away"
            time.sleep(0.02)


@pytest.mark.postgres
def test_pooled_connections_the_server_closed_are_replaced_without_an_error(
    pg_engine: Engine, postgres_cluster: PostgresCluster
) -> None:
    reader = CatalogReader(pg_engine)
    with read_connection(pg_engine) as first, read_connection(pg_engine) as second:
        assert reader.count_entities(connection=first) == reader.count_entities(connection=second) == 0
    _terminate_backends(postgres_cluster, pg_engine)
    # Both pooled connections are dead; each is noticed at checkout and replaced, no request fails.
    with read_connection(pg_engine) as first, read_connection(pg_engine) as second:
        assert reader.count_entities(connection=first) == reader.count_entities(connection=second) == 0
    check_ready(pg_engine)


@pytest.mark.postgres
def test_reads_leave_no_transaction_open_on_postgres(
    pg_engine: Engine, postgres_cluster: PostgresCluster
) -> None:
    # No BEGIN/ROLLBACK round trips, and no session a DBA would see "idle in transaction".
    with read_connection(pg_engine) as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        CatalogReader(pg_engine).query_entities(connection=connection)
        with postgres_cluster.admin().connect() as admin:
            session = text("SELECT state FROM pg_stat_activity WHERE pid = :pid")
            assert admin.execute(session, {"pid": pid}).scalar_one() == "idle"


@pytest.mark.postgres
def test_server_options_given_in_the_url_are_kept(pg_engine: Engine) -> None:
    url = pg_engine.url.set(query={"options": "-c statement_timeout=5000"})
    engine = open_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "5s"
            # beside the engine's own: prepared statements are planned for their values every time
            assert connection.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
    finally:
        engine.dispose()
