"""The statement timeout of the API's engine, and a heavy query told apart from a failing database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from catalog_sync.errors import HeavyQueryError, StoreError
from catalog_sync.store.base import Database, connection_of
from catalog_sync.store.engine import open_engine

SLOW_SECONDS = 5


def slow_statement(engine: Engine) -> str:
    """A statement that runs for seconds on an empty database (counting on SQLite, sleeping on PostgreSQL)."""
    if engine.dialect.name == "sqlite":
        return (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
            "SELECT count(*) FROM c"
        )
    return f"SELECT pg_sleep({SLOW_SECONDS})"


@pytest.fixture
def timed(store_engine: Engine) -> Iterator[Engine]:
    """The API's kind of engine on the same database, statements limited to 0.2 s."""
    engine = open_engine(
        store_engine.url.render_as_string(hide_password=False), serving=True, statement_timeout_seconds=0.2
    )
    yield engine
    engine.dispose()


def run(engine: Engine, statement: str) -> object:
    with Database(engine).reading() as tx:
        return connection_of(tx).execute(text(statement)).scalar()


def test_a_statement_past_the_timeout_is_stopped_as_a_heavy_query(timed: Engine) -> None:
    started = time.monotonic()
    with pytest.raises(HeavyQueryError) as raised:
        run(timed, slow_statement(timed))
    assert time.monotonic() - started < 2.0
    assert raised.value.message == (
        "the query took longer than 0.2 s (api.statement_timeout_seconds); narrow the filter"
    )
    assert run(timed, "SELECT 1") == 1, "the pool keeps serving after a cancelled statement"


def test_a_write_stopped_at_the_deadline_is_an_outage_to_retry_not_the_client_s_query(timed: Engine) -> None:
    """A write cancelled at the deadline was waiting behind a sync pass's lock: 503 and try again, never
    a 400 telling a client with no filter to narrow it."""
    with Database(timed).transaction() as tx:
        connection_of(tx).execute(text("CREATE TABLE IF NOT EXISTS waits (n INTEGER)"))
    if timed.dialect.name == "postgresql":
        statement = f"INSERT INTO waits (n) SELECT 1 FROM pg_sleep({SLOW_SECONDS})"
    else:
        statement = "INSERT INTO waits (n) " + slow_statement(timed)
    started = time.monotonic()
    with pytest.raises(StoreError) as raised, Database(timed).transaction() as tx:
        connection_of(tx).execute(text(statement))
    assert not isinstance(raised.value, HeavyQueryError)
    assert 0.2 <= time.monotonic() - started < 2.0  # stopped at the deadline, not refused at once
    assert any(word in str(raised.value).lower() for word in ("cancel", "interrupt"))


def test_the_limit_is_per_statement_not_per_connection(timed: Engine) -> None:
    with Database(timed).reading() as tx:
        connection = connection_of(tx)
        for _ in range(3):
            assert connection.execute(text("SELECT 1")).scalar() == 1
            time.sleep(0.15)


def test_an_engine_without_a_timeout_lets_long_statements_finish(store_engine: Engine) -> None:
    short = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) "
        "SELECT count(*) FROM c"
        if store_engine.dialect.name == "sqlite"
        else "SELECT 300000 FROM pg_sleep(0.3)"
    )
    assert run(store_engine, short) == 300000


def test_a_statement_too_large_for_the_database_is_the_query_s_fault(store_engine: Engine) -> None:
    columns = ", ".join(str(i) for i in range(2100))  # past SQLite's 2,000 and PostgreSQL's 1,664
    with pytest.raises(HeavyQueryError, match=r"^the query is too large for the database \(.+\); narrow"):
        run(store_engine, f"SELECT {columns}")
    assert run(store_engine, "SELECT 1") == 1


def test_a_database_that_cannot_be_opened_is_still_an_outage(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path}", statement_timeout_seconds=0.2)  # a folder, not a file
    with pytest.raises(StoreError) as raised:
        run(engine, "SELECT 1")
    assert not isinstance(raised.value, HeavyQueryError)
    engine.dispose()
