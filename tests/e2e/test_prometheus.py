"""A real Prometheus scraping a running catalog-sync, with the shipped alert rules loaded.

The example organisation (``descriptors/examples``) is built as real git repositories, synced and scored;
catalog-sync serves it on loopback; Prometheus (Debian's package) scrapes it every second and evaluates
the rules every second. Through Prometheus's HTTP API the test proves that the gap numbers Prometheus
holds equal the database's and ``GET /api/ownership/gaps``'s, and that the ownership-gap alert for the
organisation's tier-2 product with an unknown owner is pending or firing (its real ``for:`` is proved
by ``promtool test rules``).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from sqlalchemy import func, select

from catalog_sync.config import parse_settings
from catalog_sync.metrics import record_pass
from catalog_sync.scoring import Scorer
from catalog_sync.sources.examples import build_example_repositories
from catalog_sync.store.base import Database
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.scoring import SqlScoringStore
from catalog_sync.store.tables import ownership_gaps
from catalog_sync.sync import SyncEngine
from tests.fixtures.http import serving
from tests.fixtures.syncstore import sync_store
from tests.fixtures.tools import app_with_metrics, free_port

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "dashboards" / "alerts" / "catalog-sync.rules.yml"
EXAMPLES = ROOT / "descriptors" / "examples"
WAIT_SECONDS = 25.0
ALERT = "CatalogOwnershipGapBusinessCritical"


@dataclass
class Running:
    """The served catalog, the Prometheus watching it, and the gap counts in the database."""

    api: str
    prometheus: str
    gaps_by_type: dict[str, int]


def wait_for(what: str, probe: Callable[[], Any], deadline: float) -> Any:
    """Poll ``probe`` until it gives something truthy, or fail saying what never happened."""
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except requests.RequestException as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.25)
    pytest.fail(f"gave up waiting for {what}; last answer: {last!r}", pytrace=False)


@pytest.fixture
def running(tmp_path: Path, prometheus_server_binary: Path) -> Iterator[Running]:
    """The example organisation served by catalog-sync, scraped by a real Prometheus."""
    repos = tmp_path / "repos"
    build_example_repositories(EXAMPLES, repos)
    settings = parse_settings(
        {
            "database": f"sqlite:///{tmp_path / 'catalog.db'}",
            "sources": [{"name": "examples", "type": "local", "path": str(repos)}],
            "scorecards": {"trusted_sources": ["examples"]},
            "sync": {"cache_dir": str(tmp_path / "cache")},
        },
        str(tmp_path),
    )
    engine = open_engine(settings.database)
    upgrade(engine)
    scorer = Scorer(settings, SqlScoringStore(Database(engine)))
    SyncEngine(settings, sync_store(engine), after_pass=[scorer.as_hook(), record_pass]).run_pass()
    with engine.connect() as conn:
        gaps = {
            str(kind): int(count)
            for kind, count in conn.execute(
                select(ownership_gaps.c.type, func.count()).group_by(ownership_gaps.c.type)
            )
        }

    with ExitStack() as stack:
        stack.callback(engine.dispose)
        api = stack.enter_context(serving(app_with_metrics(settings, engine)))
        yield from _with_prometheus(api, tmp_path, prometheus_server_binary, gaps)


def _with_prometheus(
    api: str, tmp_path: Path, prometheus_server_binary: Path, gaps: dict[str, int]
) -> Iterator[Running]:
    """A real Prometheus scraping ``api`` every second with the alert rules loaded."""

    prometheus_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
                "rule_files": [str(RULES)],
                "scrape_configs": [
                    {
                        "job_name": "catalog-sync",
                        "metrics_path": "/metrics",
                        "static_configs": [{"targets": [api.removeprefix("http://")]}],
                    }
                ],
            }
        )
    )
    log = (tmp_path / "prometheus.log").open("w")
    prometheus = subprocess.Popen(
        [
            str(prometheus_server_binary),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield Running(api, f"http://127.0.0.1:{prometheus_port}", gaps)
    finally:
        prometheus.terminate()
        try:
            prometheus.wait(timeout=15)
        except subprocess.TimeoutExpired:
            prometheus.kill()
            prometheus.wait()
        log.close()


def query(base: str, promql: str) -> list[dict[str, Any]]:
    """An instant query's result vector."""
    answer = requests.get(f"{base}/api/v1/query", params={"query": promql}, timeout=5).json()
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def test_prometheus_holds_the_catalog_s_gaps_and_raises_the_ownership_alert(running: Running) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    prometheus = running.prometheus

    def target_up() -> bool:
        targets = requests.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        return any(t["health"] == "up" for t in targets)

    wait_for("the catalog-sync target to be up", target_up, deadline)
    gaps_query = "sum by (type) (max by (type, tier) (catalog_ownership_gaps))"
    series = wait_for("catalog_ownership_gaps in Prometheus", lambda: query(prometheus, gaps_query), deadline)
    held = {s["metric"]["type"]: int(float(s["value"][1])) for s in series}

    assert running.gaps_by_type  # the example organisation has gaps on purpose
    assert {t: n for t, n in held.items() if n} == running.gaps_by_type
    assert held["unknown_owner"] == 1  # product:default/pricing, tier 2, owner team-that-left

    def ownership_alert() -> list[dict[str, Any]]:
        alerts = requests.get(f"{prometheus}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
        return [
            a for a in alerts if a["labels"]["alertname"] == ALERT and a["state"] in ("pending", "firing")
        ]

    raised = wait_for(f"{ALERT} to be pending or firing", ownership_alert, deadline)
    assert {(a["labels"]["type"], a["labels"]["tier"]) for a in raised} == {("unknown_owner", "2")}
    assert raised[0]["labels"]["severity"] == "critical"

    api_gaps = requests.get(f"{running.api}/api/ownership/gaps", timeout=5)
    assert api_gaps.status_code == 200
    summary = {t: int(n) for t, n in api_gaps.json()["summary"].items() if int(n)}
    assert {t: n for t, n in held.items() if n} == summary
