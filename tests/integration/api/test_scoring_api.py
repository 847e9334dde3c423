"""The scoring endpoints over the example organisation, synced and scored by the real engine.

A second pass changes the organisation so that every gap type exists (a team disbanded, a descriptor
deleted, a component nobody owns) and two teams serve one capability (an overlap insight).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from catalog_sync.cli import build_app
from catalog_sync.config import Settings, parse_settings
from catalog_sync.scoring import GAP_TYPES, Scorer
from catalog_sync.sources.examples import build_example_repositories
from catalog_sync.store.base import Database
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.scoring import SqlScoringStore
from catalog_sync.sync import SyncEngine
from plugin_api import insights as insights_api
from plugin_api import ownership as ownership_api
from plugin_api import scorecards as scorecards_api
from plugin_api import teams as teams_api
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.syncstore import sync_store
from tests.integration.scoring_org import EXAMPLES, without_document

BLUEPRINTS = (scorecards_api.blp, ownership_api.blp, teams_api.blp, insights_api.blp)
EXPRESS = """\
apiVersion: catalog/v1
kind: Product
metadata: {name: express-checkout}
spec:
  type: service
  lifecycle: production
  owner: payments-team
  capabilities: [checkout]
  dependsOn: [cart]
"""
ORPHAN_COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: data-pipeline}
spec: {type: service, lifecycle: experimental}
"""


def scoring_app(settings: Settings, engine: Any) -> Flask:
    """The API exactly as ``build_app`` builds it, the scoring endpoints included."""
    app = build_app(settings, engine)
    assert all(blueprint.name in app.blueprints for blueprint in BLUEPRINTS)
    return app


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """A read-only client over the scored organisation (two passes, see the module doc)."""
    root = tmp_path_factory.mktemp("scoring-api")
    build_example_repositories(EXAMPLES, root / "repos")
    settings = parse_settings(
        {
            "database": f"sqlite:///{root / 'catalog.db'}",
            "sources": [{"name": "examples", "type": "local", "path": str(root / "repos")}],
            "scorecards": {"trusted_sources": ["examples"]},
            "api": {"max_page_size": 50},
        },
        str(root),
        environ={},
    )
    engine = open_engine(settings.database)
    upgrade(engine)
    scorer = Scorer(settings, SqlScoringStore(Database(engine)))
    sync = SyncEngine(settings, sync_store(engine), after_pass=[scorer.as_hook()])
    sync.run_pass()
    platform = GitRepo(root / "repos" / "platform-catalog")
    teams = (EXAMPLES / "platform-catalog" / ".catalog" / "teams.yaml").read_text()
    platform.commit(
        "platform-team disbanded", files={".catalog/teams.yaml": without_document(teams, "platform-team")}
    )
    chatbot = GitRepo(root / "repos" / "support-chatbot")
    chatbot.delete("catalog-info.yaml")
    chatbot.commit("no longer described")
    GitRepo(root / "repos" / "express").commit("express", files={"catalog-info.yaml": EXPRESS})
    GitRepo(root / "repos" / "pipeline").commit("pipeline", files={"catalog-info.yaml": ORPHAN_COMPONENT})
    sync.run_pass()
    yield scoring_app(settings, engine).test_client()
    engine.dispose()


def collect(
    client: FlaskClient, url: str, key: str = "items"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every item of a paged list, following nextCursor with the same limit; and every page."""
    items: list[dict[str, Any]] = []
    pages = []
    limit = next((part for part in url.partition("?")[2].split("&") if part.startswith("limit=")), "")
    response = client.get(url)
    while True:
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        pages.append(page)
        items += page[key]
        cursor = page["pageInfo"].get("nextCursor")
        if not cursor:
            return items, pages
        response = client.get(url.split("?")[0] + f"?cursor={cursor}&{limit}")


def assert_error(response: Any, status: int, name: str, words: str) -> None:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"]["name"] == name
    assert words in body["error"]["message"]
    assert body["response"]["statusCode"] == status


def test_scorecards_are_listed_with_their_summary(client: FlaskClient) -> None:
    items, pages = collect(client, "/api/scorecards?limit=1")
    assert [card["name"] for card in items] == [
        "operational-readiness",
        "product-readiness",
        "security-baseline",
        "service-basics",
    ]
    assert len(pages) == 4
    assert {page["totalItems"] for page in pages} == {4}
    origins = {card["name"]: card["origin"] for card in items}
    assert origins["product-readiness"] == "builtin"
    assert origins["security-baseline"] == "catalog"
    readiness = client.get("/api/scorecards/product-readiness").get_json()
    # nine products in production or experiment: eight of the example, one new; the chatbot is an orphan
    assert readiness["summary"]["entities"] == 9
    assert sum(readiness["summary"]["levels"].values()) == 9
    assert readiness["levels"] == ["bronze", "silver", "gold"]
    assert readiness["checks"][0] == {
        "id": "owner-resolves",
        "title": "Owned by a team of the catalog",
        "description": readiness["checks"][0]["description"],
        "level": "bronze",
        "weight": 3.0,
        "rule": {"ownerResolves": True},
    }
    assert_error(client.get("/api/scorecards/nope"), 404, "NotFoundError", "no scorecard named 'nope'")


def test_results_page_filter_and_level(client: FlaskClient) -> None:
    url = "/api/scorecards/product-readiness/results"
    everything = client.get(url).get_json()
    paged, pages = collect(client, f"{url}?limit=2")
    assert paged == everything["items"]
    assert len(pages) == 5
    assert [item["entityRef"] for item in paged] == sorted(item["entityRef"] for item in paged)
    cart = client.get(f"{url}?filter=metadata.name=cart").get_json()
    assert [item["entityRef"] for item in cart["items"]] == ["product:default/cart"]
    check = cart["items"][0]["checks"][0]
    assert set(check) == {"id", "title", "level", "weight", "passed", "value", "message"}
    silver = client.get(f"{url}?level=silver").get_json()
    assert {item["level"] for item in silver["items"]} == {"silver"}
    below = client.get(f"{url}?level=none").get_json()
    assert below["totalItems"] + silver["totalItems"] <= everything["totalItems"]
    assert {item["level"] for item in below["items"]} == {None}
    assert_error(client.get(f"{url}?level=platinum"), 400, "InputError", "not a level of product-readiness")
    assert_error(client.get(f"{url}?cursor=garbage"), 400, "InputError", "cursor")
    other = client.get("/api/scorecards/operational-readiness/results?limit=1").get_json()
    stolen = other["pageInfo"]["nextCursor"]
    assert_error(client.get(f"{url}?cursor={stolen}"), 400, "InputError", "another scorecard")
    assert_error(client.get(f"{url}?filter=kind=,,=x"), 400, "InputError", "filter")


def test_history_and_entity_scorecards(client: FlaskClient) -> None:
    history = client.get("/api/scorecards/product-readiness/history").get_json()
    assert history["totalItems"] == 1
    assert history["items"][0]["entities"] == 9
    assert set(history["items"][0]["levels"]) == {"none", "bronze", "silver", "gold"}
    for bad in ("0", "401", "soon"):
        assert_error(
            client.get(f"/api/scorecards/product-readiness/history?days={bad}"), 400, "InputError", "days"
        )
    cart = client.get("/api/entities/product/default/cart/scorecards").get_json()
    assert [item["scorecard"] for item in cart["items"]] == [
        "operational-readiness",
        "product-readiness",
        "security-baseline",
    ]
    assert cart["items"][1]["level"] == "silver"
    assert_error(
        client.get("/api/entities/product/default/nothing/scorecards"), 404, "NotFoundError", "nothing"
    )


def test_gaps_every_type_with_a_summary_matching_the_items(client: FlaskClient) -> None:
    items, pages = collect(client, "/api/ownership/gaps?limit=3")
    summary = pages[0]["summary"]
    assert set(summary) == set(GAP_TYPES)
    assert all(summary[t] >= 1 for t in GAP_TYPES)
    for gap_type in GAP_TYPES:
        assert summary[gap_type] == sum(1 for item in items if item["type"] == gap_type)
    assert pages[0]["totalItems"] == len(items)
    repository = next(item for item in items if item["type"] == "repository_without_descriptor")
    assert repository["entityRef"] is None
    assert repository["repository"]["name"] in {"legacy-reports", "support-chatbot"}
    orphaned = client.get("/api/ownership/gaps?type=orphaned_owner").get_json()
    assert {i["entityRef"] for i in orphaned["items"]} == {
        "product:default/incident-automation",
        "capability:default/service-operations",
    }
    assert orphaned["summary"]["orphaned_owner"] == 2
    assert sum(orphaned["summary"].values()) == 2
    by_name = client.get("/api/ownership/gaps?owner=platform-team").get_json()
    by_ref = client.get("/api/ownership/gaps?owner=team:default/platform-team").get_json()
    assert by_name["items"] == by_ref["items"]
    assert {i["type"] for i in by_name["items"]} == {"orphaned_entity", "orphaned_owner"}
    filtered, _ = collect(client, "/api/ownership/gaps?limit=1&type=repository_without_descriptor")
    assert len(filtered) == 2
    assert_error(client.get("/api/ownership/gaps?type=no_owner"), 400, "InputError", "type")
    assert_error(client.get("/api/ownership/gaps?owner=team:"), 400, "InputError", "owner")
    assert_error(client.get("/api/ownership/gaps?limit=0"), 400, "InputError", "limit")


def test_team_summaries(client: FlaskClient) -> None:
    fulfilment = client.get("/api/teams/fulfilment-team/summary").get_json()
    assert fulfilment["members"]["byRole"]["developer"] == ["ines.silva", "pablo.garcia"]
    assert "operations" not in fulfilment["members"]["byRole"]
    assert fulfilment["owned"]["byKind"] == {"capability": 1, "product": 2}
    assert fulfilment["gaps"]["summary"]["team_missing_roles"] == 1
    assert fulfilment["insights"]["dependencies"] == {
        "outgoing": 1,
        "incoming": 0,
        "teams": ["team:default/checkout-team"],
    }
    payments = client.get("/api/teams/payments-team/summary").get_json()
    assert payments["insights"]["sharedCapabilities"] == [
        {"capability": "capability:default/checkout", "teams": ["team:default/checkout-team"]}
    ]
    marketing = client.get("/api/teams/marketing-team/summary").get_json()
    assert marketing["team"]["kind"] == "group"
    assert marketing["members"]["withoutRole"] == ["lena.fischer", "priya.sharma", "tom.becker"]
    assert_error(client.get("/api/teams/ghosts/summary"), 404, "NotFoundError", "ghosts")


def test_insights(client: FlaskClient) -> None:
    overlap = client.get("/api/insights/capability-overlap").get_json()
    assert overlap["items"] == [
        {
            "capability": "capability:default/checkout",
            "products": 4,
            "teams": [
                {"team": "team:default/checkout-team", "products": 2},
                {"team": "team:default/payments-team", "products": 2},
            ],
        }
    ]
    load, pages = collect(client, "/api/insights/coordination-load?limit=1")
    assert load[0]["team"] == "team:default/checkout-team"
    assert [item["total"] for item in load] == sorted((item["total"] for item in load), reverse=True)
    assert len(pages) == len(load)
    runbooks = client.get("/api/insights/runbook-automation").get_json()["items"]
    assert {item["team"]: (item["manual"], item["automated"]) for item in runbooks} == {
        "team:default/checkout-team": (3, 0),
        "team:default/payments-team": (2, 0),
        "team:default/platform-team": (1, 3),  # an orphan now, still on record as the owner
    }


def test_every_endpoint_is_in_the_openapi_description(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {
        "/api/scorecards",
        "/api/scorecards/{name}",
        "/api/scorecards/{name}/results",
        "/api/scorecards/{name}/history",
        "/api/entities/{kind}/{namespace}/{name}/scorecards",
        "/api/ownership/gaps",
        "/api/teams/{name}/summary",
        "/api/insights/capability-overlap",
        "/api/insights/coordination-load",
        "/api/insights/runbook-automation",
        "/api/insights/tech-debt",
        "/api/teams/{name}/next",
    } <= set(paths)
    gaps = paths["/api/ownership/gaps"]["get"]
    assert {p["name"] for p in gaps["parameters"]} >= {"type", "owner", "limit", "cursor"}


def test_a_larger_limit_is_served_at_the_maximum(client: FlaskClient, tmp_path: Path) -> None:
    page = client.get("/api/ownership/gaps?limit=100000").get_json()
    assert len(page["items"]) == page["totalItems"] <= 50
