"""The metrics module on its own: sync counters, the families a scrape shows, failure and mode handling."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from sqlalchemy import Engine, insert

from catalog_sync.metrics import (
    EVENT_REGISTRY,
    REPOSITORY_STATES,
    CatalogState,
    build_registry,
    describe_state,
    multiprocess_dir,
    read_catalog_state,
    record_pass,
)
from catalog_sync.metrics.catalog import listing_ok
from catalog_sync.scoring.gaps import GAP_TYPES
from catalog_sync.store.base import Database
from catalog_sync.store.engine import open_engine
from catalog_sync.store.metrics_store import SqlMetricsReads
from catalog_sync.store.tables import sync_runs
from catalog_sync.sync import PassSummary


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def event(name: str, **labels: str) -> float:
    return EVENT_REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_pass_counts_once_with_its_repositories_and_duration() -> None:
    record_pass(PassSummary())  # make sure the series exist before reading the baseline
    before = {
        "ok": event("catalog_sync_runs_total", result="ok"),
        "changed": event("catalog_repository_syncs_total", result="changed"),
        "unchanged": event("catalog_repository_syncs_total", result="unchanged"),
        "error": event("catalog_repository_syncs_total", result="error"),
        "count": event("catalog_sync_duration_seconds_count"),
        "slow": event("catalog_sync_duration_seconds_bucket", le="5.0"),
    }

    record_pass(PassSummary(result="ok", changed=3, unchanged=40, errors=2, duration_seconds=7.5))

    assert event("catalog_sync_runs_total", result="ok") == before["ok"] + 1
    assert event("catalog_repository_syncs_total", result="changed") == before["changed"] + 3
    assert event("catalog_repository_syncs_total", result="unchanged") == before["unchanged"] + 40
    assert event("catalog_repository_syncs_total", result="error") == before["error"] + 2
    assert event("catalog_sync_duration_seconds_count") == before["count"] + 1
    assert event("catalog_sync_duration_seconds_bucket", le="5.0") == before["slow"]  # 7.5 s is above 5 s


def test_a_failed_pass_is_counted_apart_from_good_ones() -> None:
    record_pass(PassSummary())
    ok = event("catalog_sync_runs_total", result="ok")
    failed = event("catalog_sync_runs_total", result="failed")

    record_pass(PassSummary(result="failed", duration_seconds=0.2))

    assert event("catalog_sync_runs_total", result="failed") == failed + 1
    assert event("catalog_sync_runs_total", result="ok") == ok


def test_every_gap_type_and_repository_state_is_reported_even_at_zero() -> None:
    state = CatalogState(
        gaps=[("missing_owner", "1", 2), ("missing_owner", "none", 1)],
        repositories={"ok": 4, "failing": 0, "stale": 0, "pending": 0},
    )
    found = samples(scrape(state))

    for gap in GAP_TYPES:
        assert ("catalog_ownership_gaps", (("tier", "none"), ("type", gap))) in found
    assert found[("catalog_ownership_gaps", (("tier", "1"), ("type", "missing_owner")))] == 2
    assert found[("catalog_ownership_gaps", (("tier", "none"), ("type", "missing_owner")))] == 1
    assert {labels[0][1] for name, labels in found if name == "catalog_repositories"} == set(
        REPOSITORY_STATES
    )


def test_only_configured_sources_are_reported_and_a_source_never_listed_is_not_ok() -> None:
    clean = {"fleet": True, "github-acme": False, "registered": True, "removed-from-config": True}

    rows = listing_ok(["github-acme", "fleet", "new"], clean)

    assert rows == [("fleet", 1), ("github-acme", 0), ("new", 0)]


def test_a_database_without_the_catalog_keeps_the_scrape_answering(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no schema: every query fails
    try:
        text = generate_latest(build_registry(SqlMetricsReads(Database(engine)), environ={})).decode()
    finally:
        engine.dispose()

    names = {family.name for family in text_string_to_metric_families(text)}
    assert "catalog_sync_runs" in names  # the process's own counters are still served
    assert "catalog_repositories" not in names  # and the alert on their absence can fire


def test_the_last_success_is_the_newest_successful_pass_not_a_running_or_failed_one(
    sqlite_engine: Engine,
) -> None:
    t0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    rows = [
        {"worker": "w1", "started_at": t0, "finished_at": t0 + timedelta(seconds=30), "result": "ok"},
        {"worker": "w2", "started_at": t0 + timedelta(minutes=5), "finished_at": None, "result": "running"},
        {
            "worker": "w1",
            "started_at": t0 + timedelta(minutes=10),
            "finished_at": t0 + timedelta(minutes=11),
            "result": "failed",
        },
    ]
    with sqlite_engine.begin() as conn:
        conn.execute(insert(sync_runs), rows)
    state = _read_state(sqlite_engine)

    assert state.last_success == (t0 + timedelta(seconds=30)).timestamp()


def test_no_successful_pass_ever_reads_as_zero(sqlite_engine: Engine) -> None:
    assert _read_state(sqlite_engine).last_success == 0.0


def _read_state(engine: Engine) -> CatalogState:
    reads = SqlMetricsReads(Database(engine))
    with reads.reading() as tx:
        return read_catalog_state(reads, tx)


def test_multiprocess_mode_follows_the_environment_variable() -> None:
    assert multiprocess_dir({}) is None
    assert multiprocess_dir({"PROMETHEUS_MULTIPROC_DIR": ""}) is None
    assert multiprocess_dir({"PROMETHEUS_MULTIPROC_DIR": "/run/metrics"}) == "/run/metrics"


class _Fixed(Collector):
    """A collector showing one fixed state, to look at the families without a database."""

    def __init__(self, state: CatalogState) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        return describe_state(self._state)


def scrape(state: CatalogState) -> str:
    """The exposition of one state alone."""
    registry = CollectorRegistry()
    registry.register(_Fixed(state))
    return generate_latest(registry).decode()


def test_a_multiprocess_folder_set_after_start_is_reported_not_silently_empty(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record_pass(PassSummary())
    engine = open_engine("sqlite://")
    try:
        with caplog.at_level(logging.WARNING, logger="catalog_sync.metrics"):
            registry = build_registry(
                SqlMetricsReads(Database(engine)), environ={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
            )
        text = generate_latest(registry).decode()
    finally:
        engine.dispose()

    assert "set the variable before the server starts" in caplog.text
    assert "catalog_sync_runs_total" not in text  # what the warning is about
