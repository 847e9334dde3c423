"""The scrape benchmark stays runnable: its synthetic catalog fills every gauge the real one would."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from benchmarks.metrics_bench import load_catalog, time_scrapes
from catalog_sync.config import parse_settings
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from tests.fixtures.tools import app_with_metrics


def test_the_benchmark_catalog_fills_every_catalog_gauge_and_is_timed(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'bench.db'}")
    try:
        upgrade(engine)
        load_catalog(engine, 500)
        timings = time_scrapes(engine, runs=3)
        text = (
            app_with_metrics(parse_settings({}), engine).test_client().get("/metrics").get_data(as_text=True)
        )
    finally:
        engine.dispose()

    with_samples = {family.name for family in text_string_to_metric_families(text) if family.samples}
    assert {
        "catalog_entities",
        "catalog_ownership_gaps",
        "catalog_scorecard_entities",
        "catalog_scorecard_score_average",
        "catalog_repositories",
    } <= with_samples
    assert 0 < timings["p50"] <= timings["max"]
