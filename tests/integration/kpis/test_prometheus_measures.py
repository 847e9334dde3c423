"""Measuring against a real Prometheus (Debian's package) that scrapes a small exporter of known series.

Each way a query can fail to give one number is tried for real: no sample, several, NaN, a matrix,
an error Prometheus reports, a Prometheus that never answers (a timeout) and one that is gone. A
failure gives ``unknown`` with the reason and keeps the last good value; it is never ``missed``.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from sqlalchemy import Engine

from catalog_sync.config import KpiSettings
from catalog_sync.descriptors.kpis import judge
from catalog_sync.kpis import Measurer
from catalog_sync.store.base import Database
from catalog_sync.store.kpis import SqlKpiStore
from tests.fixtures.http import serving, tarpit
from tests.fixtures.tools import free_port
from tests.unit.store.helpers import entity_body, insert_entity

EXPOSITION = """\
# TYPE demo_success_ratio gauge
demo_success_ratio 99.2
# TYPE demo_shard_up gauge
demo_shard_up{shard="a"} 1
demo_shard_up{shard="b"} 1
# TYPE demo_broken gauge
demo_broken NaN
"""
QUERIES = {
    "success": ("max_over_time(demo_success_ratio[$window])", 98.5),
    "missing": ("sum(demo_never_exported)", 1),
    "shards": ("demo_shard_up", 1),
    "nan": ("demo_broken", 1),
    "matrix": ("demo_success_ratio[$window]", 1),
    "error": ("demo_shard_up + on() demo_shard_up", 1),
}
REF = "product:default/checkout"


def exporter(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app answering Prometheus's scrape with the known series."""
    start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4")])
    return [EXPOSITION.encode()]


@pytest.fixture
def prometheus(
    tmp_path: Path, prometheus_server_binary: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Prometheus scraping the exporter every second, with the series already ingested."""
    with ExitStack() as stack:
        target = stack.enter_context(serving(exporter)).removeprefix("http://")
        port = free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                    "scrape_configs": [{"job_name": "demo", "static_configs": [{"targets": [target]}]}],
                }
            )
        )
        log = stack.enter_context((tmp_path / "prometheus.log").open("w"))
        process = subprocess.Popen(
            [
                str(prometheus_server_binary),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        stack.callback(_stop, process)
        base = f"http://127.0.0.1:{port}"
        _wait_for_series(base)
        yield base, process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_for_series(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            answer = requests.get(f"{base}/api/v1/query", params={"query": "demo_success_ratio"}, timeout=2)
            if answer.ok and answer.json()["data"]["result"]:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    pytest.fail("Prometheus never held the exporter's series", pytrace=False)


def _catalog(engine: Engine) -> None:
    kpis = [
        {"name": ident, "category": "customer-satisfaction", "target": target, "window": "5m",
         "measure": {"prometheus": query}}
        for ident, (query, target) in QUERIES.items()
    ]  # fmt: skip
    body = entity_body(
        "Product", "checkout", spec={"type": "service", "lifecycle": "production", "kpis": kpis}
    )
    insert_entity(engine, body)


def _states(store: SqlKpiStore, database: Database) -> dict[str, tuple[str, float | None, str | None]]:
    with database.reading() as tx:
        out = {}
        for state in store.states(tx):
            value = state.stored.value if state.stored else None
            error = state.stored.error if state.stored else None
            out[state.declared.kpi_id] = (judge(state.declared.kpi, value, error), value, error)
        return out


def test_each_answer_of_a_real_prometheus_gives_a_value_or_a_reason(
    prometheus: tuple[str, subprocess.Popen[bytes]], sqlite_engine: Engine
) -> None:
    base, process = prometheus
    _catalog(sqlite_engine)
    database = Database(sqlite_engine)
    store = SqlKpiStore(database)
    measurer = Measurer(KpiSettings(prometheus_url=base, timeout_seconds=5), store)

    summary = measurer.run_round()

    states = _states(store, database)
    assert summary.measured == 6
    assert summary.unknown == 5
    assert states["success"] == ("met", 99.2, None)
    reasons = {ident: error for ident, (status, _, error) in states.items() if ident != "success"}
    assert all(states[ident][0] == "unknown" for ident in reasons)
    assert "no sample" in str(reasons["missing"])
    assert "returned 2 samples; one is needed" in str(reasons["shards"])
    assert "NaN" in str(reasons["nan"])
    assert "gives a matrix, not a vector" in str(reasons["matrix"])
    assert "Prometheus refused the query (execution)" in str(reasons["error"])

    _stop(process)  # Prometheus goes away mid-life: the value stays, the status is unknown
    measurer.run_round()
    status, value, error = _states(store, database)["success"]
    assert (status, value) == ("unknown", 99.2)
    assert error is not None
    assert "cannot be reached" in error
    measurer.close()


def test_a_prometheus_that_never_answers_is_a_timeout_within_the_setting(sqlite_engine: Engine) -> None:
    _catalog(sqlite_engine)
    database = Database(sqlite_engine)
    store = SqlKpiStore(database)
    with tarpit() as port:
        settings = KpiSettings(prometheus_url=f"http://127.0.0.1:{port}", timeout_seconds=0.5, concurrency=8)
        started = time.monotonic()
        Measurer(settings, store).run_round()
        elapsed = time.monotonic() - started
    states = _states(store, database)
    assert elapsed < 3  # six queries, eight at once, half a second each
    assert {s for s, _, _ in states.values()} == {"unknown"}
    assert all("no answer within 0.5 s (kpis.timeout_seconds)" in str(e) for _, _, e in states.values())


def test_without_a_prometheus_url_prometheus_kpis_say_so(sqlite_engine: Engine) -> None:
    _catalog(sqlite_engine)
    database = Database(sqlite_engine)
    store = SqlKpiStore(database)
    Measurer(replace(KpiSettings(), prometheus_url=None), store, clock=lambda: datetime.now(UTC)).run_round()
    assert {e for _, _, e in _states(store, database).values()} == {
        "kpis.prometheus_url is not set: prometheus measures need it"
    }


def deeply_nested(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app answering every query with JSON nested deeper than Python's parser goes (a proxy, or
    a host that is not Prometheus, in front of ``kpis.prometheus_url``)."""
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"status":"success","data":' + b"[" * 5000 + b"]" * 5000 + b"}"]


def test_an_answer_nested_deeper_than_the_parser_goes_is_a_reason_not_an_internal_error(
    sqlite_engine: Engine,
) -> None:
    """Each KPI is unknown with the reason; the parser's RecursionError, no ``MeasureError``, was
    logged as a bug with its traceback for every KPI of every round, each KPI's reason an internal
    error naming Python's recursion depth."""
    _catalog(sqlite_engine)
    database = Database(sqlite_engine)
    store = SqlKpiStore(database)
    with serving(deeply_nested) as base:
        summary = Measurer(KpiSettings(prometheus_url=base, timeout_seconds=5), store).run_round()
    states = _states(store, database)
    assert (summary.measured, summary.unknown) == (6, 6)
    assert {error for _, _, error in states.values()} == {
        "Prometheus answered HTTP 200 with JSON nested too deeply to read"
    }
