"""``GET /metrics`` over a catalog built by real syncs of real git repositories, on SQLite and PostgreSQL.

The catalog-state gauges must equal what the database holds, be the same from every replica and after a
restart, and the exposition must pass ``promtool check metrics``.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import requests
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from catalog_sync.metrics import EVENT_REGISTRY, record_pass, start_metrics_server
from catalog_sync.store.base import Database
from catalog_sync.store.engine import open_engine
from catalog_sync.store.metrics_store import SqlMetricsReads
from catalog_sync.store.stores import open_stores
from catalog_sync.sync import SyncEngine
from tests.fixtures.syncstore import sync_store
from tests.fixtures.tools import app_with_metrics, free_port
from tests.integration.conftest import Catalog, product_yaml

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

SHOP = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: web-shop}
spec: {type: website, lifecycle: experimental, owner: group:web}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: web}
spec: {type: team, children: []}
"""

TEAM = """\
apiVersion: catalog/v1
kind: Team
metadata: {name: payments}
spec:
  members: [{name: ada, role: product-owner}]
"""

BROKEN = """\
apiVersion: catalog/v1
kind: Product
metadata: {name: broken}
spec: {type: service, lifecycle: someday, owner: payments}
"""


def scrape(app: Flask) -> str:
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.get_data(as_text=True)


def parse(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def catalog_state(text: str) -> Samples:
    """Only the gauges read from the database (the process counters differ between replicas)."""
    names = (
        "catalog_entities",
        "catalog_ownership_gaps",
        "catalog_scorecard_",
        "catalog_repositories",
        "catalog_descriptor_errors",
        "catalog_entity_conflicts",
        "catalog_sync_last_success_timestamp_seconds",
        "catalog_source_listing_ok",
    )
    return {key: value for key, value in parse(text).items() if key[0].startswith(names)}


def build_fleet(catalog: Catalog) -> None:
    """Products, a Backstage component, a broken descriptor, a conflict, a failing repository."""
    catalog.repo(
        "pay",
        {
            "catalog-info.yaml": product_yaml("pay", lifecycle="production"),
            ".catalog/team.yaml": TEAM,
        },
    )
    catalog.repo("cart", {"catalog-info.yaml": product_yaml("cart", lifecycle="deprecated")})
    catalog.repo("shop", {"catalog-info.yaml": SHOP})
    catalog.repo("broken", {"catalog-info.yaml": BROKEN})
    catalog.repo("plain", {"README.md": "# no descriptor here\n"})
    catalog.sync()
    catalog.repo("copy", {"catalog-info.yaml": product_yaml("pay", lifecycle="experimental")})
    catalog.sync()
    gone = catalog.repo("gone", {"catalog-info.yaml": product_yaml("gone")})
    catalog.sync()
    (gone.git_dir / "refs" / "heads" / "main").write_text("not a sha\n")
    catalog.sync()


def test_gauges_equal_what_the_catalog_holds(catalog: Catalog) -> None:
    build_fleet(catalog)

    found = parse(scrape(app_with_metrics(catalog.settings, catalog.engine)))

    def entities(kind: str, lifecycle: str) -> float:
        return found.get(("catalog_entities", (("kind", kind), ("lifecycle", lifecycle))), 0.0)

    assert entities("product", "production") == 2  # pay (the copy's claim is refused) and gone (kept)
    assert entities("product", "deprecated") == 1
    assert entities("component", "experimental") == 1
    assert entities("team", "none") == 1
    assert entities("group", "none") == 1
    assert sum(v for (name, _), v in found.items() if name == "catalog_entities") == len(catalog.refs())

    def repositories(state: str) -> float:
        return found[("catalog_repositories", (("state", state),))]

    assert repositories("failing") == 1
    assert repositories("ok") == 6
    assert repositories("stale") == 0
    assert repositories("pending") == 0

    descriptor_errors = [p for p in catalog.problems("descriptor") if p["severity"] == "error"]
    assert descriptor_errors
    assert found[("catalog_descriptor_errors", ())] == len(descriptor_errors)
    assert found[("catalog_entity_conflicts", ())] == len(catalog.problems("conflict")) == 1
    assert found[("catalog_sync_last_success_timestamp_seconds", ())] >= catalog.clock.now.timestamp() - 1


def listing_ok(app: Flask) -> dict[str, float]:
    """``catalog_source_listing_ok`` of one scrape, by source."""
    return {
        dict(labels)["source"]: value
        for (name, labels), value in parse(scrape(app)).items()
        if name == "catalog_source_listing_ok"
    }


def source_errors(app: Flask) -> dict[str, str | None]:
    """What ``GET /api/sources`` says of each source's last listing."""
    response = app.test_client().get("/api/sources")
    assert response.status_code == 200
    return {item["name"]: item["lastError"] for item in response.get_json()["items"]}


def test_each_configured_source_reports_whether_its_last_listing_was_clean(
    catalog: Catalog, tmp_path: Path
) -> None:
    catalog.config["sources"].append({"name": "later", "type": "local", "path": "later"})
    for name in ("pay", "cart"):
        catalog.repo(name, {"catalog-info.yaml": product_yaml(name)})
    app = app_with_metrics(catalog.settings, catalog.engine)

    assert listing_ok(app) == {"fleet": 0, "later": 0}  # never listed: not known to be clean

    catalog.sync()
    assert listing_ok(app) == {"fleet": 1, "later": 0}  # later's folder does not exist
    assert "does not exist" in (source_errors(app)["later"] or "")

    (catalog.root / "later").mkdir()
    aside = tmp_path / "aside"
    shutil.move(catalog.fleet, aside)
    catalog.fleet.mkdir()
    catalog.sync()
    assert listing_ok(app) == {"fleet": 0, "later": 1}  # both repositories gone: the removal is refused
    assert "max_removal_fraction" in (source_errors(app)["fleet"] or "")

    catalog.fleet.rmdir()
    shutil.move(aside, catalog.fleet)
    catalog.sync()
    assert listing_ok(app) == {"fleet": 1, "later": 1}
    assert source_errors(app) == {"fleet": None, "later": None}

    open_stores(Database(catalog.engine)).administration.register_repository(
        "https://git.example.com/acme/cart.git", None, allowed_protocols=("https",), now=datetime.now(UTC)
    )
    assert listing_ok(app) == {"fleet": 1, "later": 1}  # the API's registrations are no configured source


def test_replicas_agree_and_the_numbers_survive_a_restart(catalog: Catalog) -> None:
    build_fleet(catalog)
    first = app_with_metrics(catalog.settings, catalog.engine)
    second = app_with_metrics(catalog.settings, catalog.engine)
    first.test_client().get("/healthz")  # only the first replica answers requests

    state = catalog_state(scrape(first))
    assert state == catalog_state(scrape(second))

    restarted_engine = open_engine(str(catalog.engine.url.render_as_string(hide_password=False)))
    try:
        assert catalog_state(scrape(app_with_metrics(catalog.settings, restarted_engine))) == state
    finally:
        restarted_engine.dispose()


def test_requests_are_counted_by_url_rule_never_by_raw_path(catalog: Catalog) -> None:
    app = app_with_metrics(catalog.settings, catalog.engine)
    client = app.test_client()
    for number in (101, 102, 103):
        client.get(f"/api/repositories/{number}")
    client.get("/no/such/page/4711")

    found = parse(scrape(app))
    routes = {dict(labels).get("route") for name, labels in found if name == "catalog_http_requests_total"}

    assert "/api/repositories/<int:repository_id>" in routes
    assert "<unmatched>" in routes
    assert not any(route and ("101" in route or "4711" in route) for route in routes)
    key = (
        "catalog_http_requests_total",
        (("method", "GET"), ("route", "/api/repositories/<int:repository_id>"), ("status", "404")),
    )
    assert found[key] >= 3
    assert found[("catalog_http_request_duration_seconds_count", (("route", "<unmatched>"),))] >= 1


def test_the_sync_hook_counts_each_pass_and_its_repositories(catalog: Catalog) -> None:
    for name in ("a", "b", "c"):
        catalog.repo(name, {"catalog-info.yaml": product_yaml(name)})
    engine = SyncEngine(
        catalog.settings, sync_store(catalog.engine), clock=catalog.clock, after_pass=[record_pass]
    )

    def value(name: str, **labels: str) -> float:
        return EVENT_REGISTRY.get_sample_value(name, labels) or 0.0

    runs = value("catalog_sync_runs_total", result="ok")
    changed = value("catalog_repository_syncs_total", result="changed")
    unchanged = value("catalog_repository_syncs_total", result="unchanged")
    passes = value("catalog_sync_duration_seconds_count")

    engine.run_pass()
    engine.run_pass()

    assert value("catalog_sync_runs_total", result="ok") == runs + 2
    assert value("catalog_repository_syncs_total", result="changed") == changed + 3
    assert value("catalog_repository_syncs_total", result="unchanged") == unchanged + 3
    assert value("catalog_sync_duration_seconds_count") == passes + 2


def test_the_exposition_passes_promtool(catalog: Catalog, promtool: Path) -> None:
    build_fleet(catalog)
    app = app_with_metrics(catalog.settings, catalog.engine)
    app.test_client().get("/healthz")
    record_pass(catalog.sync())

    checked = subprocess.run(
        [str(promtool), "check", "metrics"], input=scrape(app), capture_output=True, text=True, timeout=60
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == ""


def test_a_worker_without_the_api_serves_its_pass_counters_and_the_catalog(catalog: Catalog) -> None:
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    record_pass(catalog.sync())
    server = start_metrics_server(
        SqlMetricsReads(Database(catalog.engine)), host="127.0.0.1", port=free_port()
    )
    try:
        response = requests.get(
            f"http://127.0.0.1:{server.server_port}/metrics", headers={"Accept": "text/plain"}, timeout=10
        )
    finally:
        server.shutdown()
        server.server_close()

    found = parse(response.text)
    assert found[("catalog_sync_runs_total", (("result", "ok"),))] >= 1
    assert found[("catalog_entities", (("kind", "product"), ("lifecycle", "production")))] == 1
