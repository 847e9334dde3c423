"""``/api/kpis``: a real sync of a repository with release tags, a real measuring round, then every
endpoint asked as a client would, and every query parameter and body tried with hostile values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from catalog_sync.cli import build_app
from catalog_sync.config import parse_settings
from catalog_sync.kpis import Measurer
from catalog_sync.scoring import Scorer
from catalog_sync.store.base import Database
from catalog_sync.store.engine import open_engine
from catalog_sync.store.kpis import SqlKpiStore
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.scoring import SqlScoringStore
from catalog_sync.sync import SyncEngine
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.syncstore import sync_store

TOKEN = "a-token-for-the-kpi-tests-only"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime.now(UTC).replace(microsecond=0)
SHOP = """\
apiVersion: catalog/v1
kind: Product
metadata: {name: web-shop, title: Web shop}
spec:
  type: website
  lifecycle: production
  owner: shop-team
  tier: 1
  capabilities: [selling]
  kpis:
    - {name: Net promoter score, id: nps, category: customer-satisfaction, target: 40, measure: {push: true}}
    - {name: Releases, category: speed-to-market, target: 1, window: 30d, measure: {git: release-frequency}}
    - {name: Lead time, category: speed-to-market, target: 5, direction: at-most, unit: days,
       measure: {git: lead-time-for-changes}}
    - {name: Checkout success, category: customer-satisfaction, target: 99, measure: {prometheus: 'sum(up)'}}
    - {name: Revenue share, category: business-alignment, target: "top 3"}
---
apiVersion: catalog/v1
kind: Team
metadata: {name: shop-team}
spec:
  members: [{name: ann, role: product-owner}]
---
apiVersion: catalog/v1
kind: Capability
metadata: {name: selling, title: Selling}
spec: {owner: shop-team}
---
apiVersion: catalog/v1
kind: Product
metadata: {name: search}
spec:
  type: service
  lifecycle: production
  owner: find-team
  kpis:
    - {name: Commits, category: team-performance, target: 50, window: 7d, measure: {git: change-frequency}}
---
apiVersion: catalog/v1
kind: Team
metadata: {name: find-team}
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    root = tmp_path_factory.mktemp("kpi-api")
    repo = GitRepo(root / "repos" / "shop")
    repo.commit("start", files={"a": "1"}, when=NOW - timedelta(days=12))
    repo.commit("fix", files={"a": "2"}, when=NOW - timedelta(days=8))
    repo.git("tag", "v1.0")
    repo.commit("describe", files={"catalog-info.yaml": SHOP}, when=NOW - timedelta(days=1))
    settings = parse_settings(
        {
            "database": f"sqlite:///{root / 'catalog.db'}",
            "sources": [{"name": "shop", "type": "local", "path": str(root / "repos")}],
            "api": {"tokens": [TOKEN], "max_page_size": 50},
        },
        str(root),
        environ={},
    )
    engine = open_engine(settings.database)
    upgrade(engine)
    scorer = Scorer(settings, SqlScoringStore(Database(engine)))
    SyncEngine(settings, sync_store(engine), after_pass=[scorer.as_hook()]).run_pass()
    Measurer(settings.kpis, SqlKpiStore(Database(engine))).run_round()
    yield build_app(settings, engine).test_client()
    engine.dispose()


def _items(client: FlaskClient, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/api/kpis{query}")
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


def _by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def assert_error(response: Any, status: int, words: str) -> None:
    body = response.get_json()
    assert response.status_code == status, body
    assert words in json.dumps(body), body


def test_every_kpi_is_listed_with_its_status_missed_first(client: FlaskClient) -> None:
    items = _items(client)
    found = _by_id(items)
    assert [item["status"] for item in items] == sorted(
        (item["status"] for item in items), key=["missed", "unknown", "met", "declared"].index
    )
    assert found["releases"]["status"] == "met"
    assert found["releases"]["value"] == 1
    assert found["lead-time"]["status"] == "met"
    assert found["lead-time"]["value"] == pytest.approx(2.0)  # start waited 4 days, fix none
    assert found["commits"]["status"] == "missed"
    assert found["commits"]["value"] == 1
    assert found["nps"]["status"] == "unknown"
    assert found["nps"]["error"] == "no value pushed yet"
    checkout = found["checkout-success"]
    assert checkout["status"] == "unknown"
    assert "kpis.prometheus_url is not set" in checkout["error"]
    assert found["revenue-share"]["status"] == "declared"
    assert found["revenue-share"]["error"] is None
    assert found["releases"]["owner"] == "team:default/shop-team"
    assert found["releases"]["entityRef"] == "product:default/web-shop"


def test_the_summary_answers_how_each_team_does_per_category_in_one_call(client: FlaskClient) -> None:
    summary = client.get("/api/kpis?limit=1").get_json()["summary"]
    assert summary["byOwner"]["team:default/find-team"]["team-performance"]["missed"] == 1
    shop = summary["byOwner"]["team:default/shop-team"]
    assert shop["speed-to-market"]["met"] == 2
    assert shop["business-alignment"]["declared"] == 1
    assert sum(sum(c.values()) for c in summary["byCategory"].values()) == 6
    narrowed = client.get("/api/kpis?owner=find-team").get_json()["summary"]
    assert list(narrowed["byOwner"]) == ["team:default/find-team"]


def test_filters_narrow_the_list_and_pages_keep_them(client: FlaskClient) -> None:
    assert set(_by_id(_items(client, "?status=missed"))) == {"commits"}
    assert set(_by_id(_items(client, "?category=speed-to-market"))) == {"releases", "lead-time"}
    assert set(_by_id(_items(client, "?owner=find-team"))) == {"commits"}
    assert set(_by_id(_items(client, "?owner=team:default/shop-team&status=unknown"))) == {
        "nps",
        "checkout-success",
    }
    assert set(_by_id(_items(client, "?filter=spec.tier=1"))) == {
        "nps", "releases", "lead-time", "checkout-success", "revenue-share",
    }  # fmt: skip
    first = client.get("/api/kpis?owner=shop-team&limit=2").get_json()
    assert first["totalItems"] == 5
    assert len(first["items"]) == 2
    seen = [item["id"] for item in first["items"]]
    cursor = first["pageInfo"]["nextCursor"]
    while cursor:
        page = client.get(f"/api/kpis?cursor={cursor}&limit=2").get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["pageInfo"].get("nextCursor")
    assert sorted(seen) == sorted(_by_id(_items(client, "?owner=shop-team")))


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("?status=fine", "status"),
        ("?category=happiness", "category"),
        ("?owner=" + "x" * 700, "owner"),
        ("?owner=team:", "owner"),
        ("?filter==,,", "filter"),
        ("?limit=0", "limit"),
        ("?limit=abc", "limit"),
        ("?cursor=%00%01", "cursor"),
        ("?cursor=eyJrIjoic2NvcmVjYXJkcyIsImFmdGVyIjoieCJ9", "cursor"),
        ("?cursor=" + "A" * 5000, "cursor"),
    ],
)
def test_a_hostile_query_is_refused_naming_the_parameter(client: FlaskClient, query: str, words: str) -> None:
    assert_error(client.get(f"/api/kpis{query}"), 400, words)


def test_history_of_one_kpi_and_its_hostile_days(client: FlaskClient) -> None:
    url = "/api/kpis/product/default/web-shop/releases/history"
    points = client.get(f"{url}?days=7").get_json()["items"]
    assert points == [{"day": NOW.date().isoformat(), "value": 1.0}] or points[-1]["value"] == 1.0
    for days in ("0", "401", "abc", "-3", "1e9"):
        assert_error(client.get(f"{url}?days={days}"), 400, "days")
    assert_error(client.get("/api/kpis/product/default/web-shop/nope/history"), 404, "declares no KPI")
    assert_error(client.get("/api/kpis/product/default/nobody/nps/history"), 404, "declares no KPI")


def test_pushed_values_need_a_token_are_checked_and_are_idempotent(client: FlaskClient) -> None:
    url = "/api/kpis/product/default/web-shop/nps/values"
    assert_error(client.post(url, json={"value": 45}), 401, "")
    assert_error(
        client.post(url, json={"value": 45}, headers={"Authorization": "Bearer wrong-token"}), 401, ""
    )
    assert _by_id(_items(client))["nps"]["status"] == "unknown"  # nothing changed
    hostile: list[tuple[Any, str]] = [
        ({"value": "45"}, "value"),
        ({"value": True}, "value"),
        ({"value": None}, "value"),
        ({}, "value"),
        ({"value": 1e300}, "value"),
        ({"value": 45, "extra": 1}, "extra"),
        ({"value": 45, "at": "yesterday"}, "at"),
        ({"value": 45, "at": "2026-01-01T00:00:00"}, "at"),  # no time zone
        ({"value": 45, "at": (NOW + timedelta(days=2)).isoformat()}, "future"),
        ({"value": 45, "at": (NOW - timedelta(days=500)).isoformat()}, "400 days"),
        ([45], ""),
    ]
    for body, words in hostile:
        response = client.post(url, json=body, headers=AUTH)
        assert response.status_code == 400, (body, response.get_json())
        assert words in json.dumps(response.get_json()), (body, response.get_json())
    nan = client.post(url, data='{"value": NaN}', headers={**AUTH, "Content-Type": "application/json"})
    assert nan.status_code == 400
    broken = client.post(url, data="{", headers={**AUTH, "Content-Type": "application/json"})
    assert broken.status_code == 400
    assert _by_id(_items(client))["nps"]["status"] == "unknown"  # still nothing kept

    at = (NOW - timedelta(hours=1)).isoformat()
    created = client.post(url, json={"value": 45, "at": at}, headers=AUTH)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["status"] == "met"
    assert created.get_json()["replay"] is False
    again = client.post(url, json={"value": 45, "at": at}, headers=AUTH)
    assert again.status_code == 200
    assert again.get_json()["replay"] is True
    assert _by_id(_items(client))["nps"]["value"] == 45

    base = "/api/kpis/product/default/web-shop"
    assert_error(
        client.post(f"{base}/releases/values", json={"value": 1}, headers=AUTH), 409, "measured by git"
    )
    assert_error(client.post(f"{base}/nope/values", json={"value": 1}, headers=AUTH), 404, "declares no KPI")


def test_the_team_summary_counts_kpis_by_category(client: FlaskClient) -> None:
    summary = client.get("/api/teams/find-team/summary").get_json()
    assert summary["kpis"]["count"] == 1
    assert summary["kpis"]["byCategory"]["team-performance"] == {
        "met": 0, "missed": 1, "unknown": 0, "declared": 0,
    }  # fmt: skip
    shop = client.get("/api/teams/shop-team/summary").get_json()["kpis"]["byCategory"]
    assert shop["business-alignment"]["declared"] == 1
    assert shop["speed-to-market"]["met"] == 2


def test_the_summary_rolls_kpis_up_per_capability_by_category(client: FlaskClient) -> None:
    body = client.get("/api/kpis").get_json()
    by_capability = body["summary"]["byCapability"]
    assert set(by_capability) == {"capability:default/selling", "none"}  # search serves no capability
    selling = by_capability["capability:default/selling"]
    assert selling["speed-to-market"] == {"met": 2, "missed": 0, "unknown": 0, "declared": 0}
    assert selling["customer-satisfaction"]["unknown"] >= 1  # checkout success: Prometheus not set
    assert sum(selling["customer-satisfaction"].values()) == 2
    assert selling["business-alignment"]["declared"] == 1
    assert by_capability["none"]["team-performance"]["missed"] == 1
    assert _by_id(body["items"])["nps"]["capabilities"] == ["capability:default/selling"]
    # the roll-up counts what the filters select, not only the page
    missed = client.get("/api/kpis?status=missed&limit=1").get_json()["summary"]["byCapability"]
    assert set(missed) == {"none"}


def test_the_endpoints_are_in_the_openapi_description(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {
        "/api/kpis",
        "/api/kpis/{kind}/{namespace}/{name}/{kpi}/history",
        "/api/kpis/{kind}/{namespace}/{name}/{kpi}/values",
    } <= set(paths)
    listing = paths["/api/kpis"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"category", "status", "owner", "filter", "cursor"}
    assert paths["/api/kpis/{kind}/{namespace}/{name}/{kpi}/values"]["post"]["security"]
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    summary = next(schema for name, schema in schemas.items() if name.startswith("KpiSummary"))
    assert "byCapability" in summary["required"]
    assert "capability" in summary["properties"]["byCapability"]["description"]


def test_metrics_count_kpis_by_category_and_status_and_give_tier_1_ratios(client: FlaskClient) -> None:
    text = client.get("/metrics").get_data(as_text=True)
    samples = {
        (family.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples[("catalog_kpis", (("category", "team-performance"), ("status", "missed")))] == 1
    assert samples[("catalog_kpis", (("category", "speed-to-market"), ("status", "met")))] == 2
    assert samples[("catalog_kpis", (("category", "other"), ("status", "met")))] == 0
    team = {
        labels: value for (name, labels), value in samples.items() if name == "catalog_team_kpis" and value
    }
    assert (
        team[(("category", "team-performance"), ("owner", "team:default/find-team"), ("status", "missed"))]
        == 1
    )
    assert (
        team[(("category", "speed-to-market"), ("owner", "team:default/shop-team"), ("status", "met"))] == 2
    )
    by_owner = client.get("/api/kpis").get_json()["summary"]["byOwner"]
    assert team == {
        (("category", category), ("owner", owner), ("status", status)): count
        for owner, categories in by_owner.items()
        for category, counts in categories.items()
        for status, count in counts.items()
        if count
    }, "the metric and the API answer the same question alike"
    ratios = {
        tuple(label for label in labels if label[0] in ("entity", "kpi")): value
        for (name, labels), value in samples.items()
        if name == "catalog_kpi_ratio"
    }
    tiers = {dict(labels)["tier"] for (name, labels) in samples if name == "catalog_kpi_ratio"}
    assert tiers == {"1"}
    # web-shop is tier 1 (its measured KPIs with a value); search has no tier, so no series
    shop = "product:default/web-shop"
    assert {dict(labels)["entity"] for labels in ratios} == {shop}
    assert ratios[(("entity", shop), ("kpi", "releases"))] == 1.0
    assert ratios[(("entity", shop), ("kpi", "lead-time"))] == pytest.approx(2.0 / 5)
    assert (("entity", shop), ("kpi", "checkout-success")) not in ratios  # no value yet
