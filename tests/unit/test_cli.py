"""The composition root's engines: the API's statements are held to api.statement_timeout_seconds, the
sync loop's beside it are not, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, text

from catalog_sync.cli import _writing_engine, open_store
from catalog_sync.commandline import build_parser
from catalog_sync.config import parse_settings
from catalog_sync.errors import HeavyQueryError
from catalog_sync.store.base import Database, connection_of
from catalog_sync.store.deadlines import statement_timeout
from tests.unit.store.test_deadlines import slow_statement


def long_but_legal(engine: Engine) -> str:
    """About half a second of work: over the API's limit below, nothing for a sync pass."""
    if engine.dialect.name == "sqlite":
        return (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) "
            "SELECT count(*) > 0 FROM c"
        )
    return "SELECT true FROM pg_sleep(0.5)"


def run(engine: Engine, statement: str) -> object:
    with Database(engine).reading() as tx:
        return connection_of(tx).execute(text(statement)).scalar()


def test_the_api_engine_stops_slow_statements_and_the_sync_loop_beside_it_does_not(
    store_engine: Engine,
) -> None:
    url = store_engine.url.render_as_string(hide_password=False)
    settings = parse_settings({"database": url, "api": {"statement_timeout_seconds": 0.2}}, environ={})
    serving = open_store(settings, serving=True)
    writing = _writing_engine(serving)
    try:
        assert statement_timeout(serving) == 0.2
        started = time.monotonic()
        with pytest.raises(HeavyQueryError, match=r"longer than 0\.2 s \(api\.statement_timeout_seconds\)"):
            run(serving, slow_statement(serving))
        assert time.monotonic() - started < 2.0
        assert writing is not serving
        assert statement_timeout(writing) is None
        assert run(writing, long_but_legal(writing)) in (True, 1)
    finally:
        if writing is not serving:
            writing.dispose()
        serving.dispose()


def test_other_processes_have_no_statement_timeout(store_engine: Engine) -> None:
    url = store_engine.url.render_as_string(hide_password=False)
    engine = open_store(parse_settings({"database": url}, environ={}))
    try:
        assert statement_timeout(engine) is None
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("serve", "--port", "99999999999999999999"),
        ("serve", "--port", "-1"),
        ("demo", "--port", "65536"),
        ("worker", "--metrics-port", "70000"),
        ("worker", "--poll-seconds", "1e400"),
        ("worker", "--poll-seconds", "nan"),
        ("worker", "--poll-seconds", "0"),
        ("worker", "--poll-seconds", "-1"),
    ],
)
def test_a_number_out_of_range_on_the_command_line_is_refused_naming_the_option(
    command: str, option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args([command, option, value])

    assert refused.value.code == 2
    assert f"argument {option}: " in capsys.readouterr().err
