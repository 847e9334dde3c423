"""``/api/initiatives`` and exemptions through the API: a real sync of a trusted repository, then every
endpoint asked as a client would, the OpenAPI description, the gauge, and every query parameter,
path and validated body tried with hostile values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.initiative_org import TODAY, UNTIL, initiative_app


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    yield from (app.test_client() for app in initiative_app(tmp_path_factory.mktemp("initiatives-api")))


def _ok(client: FlaskClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def assert_error(response: Any, status: int, words: str) -> None:
    body = response.get_json()
    assert response.status_code == status, body
    assert words in json.dumps(body), body


def test_the_list_and_one_initiative_show_progress_per_team(client: FlaskClient) -> None:
    listed = _ok(client, "/api/initiatives")
    assert listed["totalItems"] == 1
    one = _ok(client, "/api/initiatives/measured")
    assert listed["items"] == [one]
    assert (one["inScope"], one["done"], one["notDone"], one["percent"]) == (2, 1, 1, 50.0)
    assert (one["status"], one["atRisk"], one["owner"]) == ("active", False, "team:default/platform")
    assert one["goal"] == {"level": "silver"}
    assert one["teams"] == [{"team": "team:default/shop-team", "inScope": 2, "done": 1, "notDone": 1}]
    entities = _ok(client, "/api/initiatives/measured/entities")["items"]
    assert entities == [
        {"entityRef": "product:default/search", "owner": "team:default/shop-team", "done": False},
        {"entityRef": "product:default/web-shop", "owner": "team:default/shop-team", "done": True},
    ]
    assert _ok(client, "/api/initiatives/measured/entities?done=true")["totalItems"] == 1
    assert _ok(client, "/api/initiatives?owner=shop-team")["totalItems"] == 1
    assert _ok(client, "/api/initiatives?owner=team:default/nobody")["totalItems"] == 0


def test_the_burn_up_has_todays_point(client: FlaskClient) -> None:
    points = _ok(client, "/api/initiatives/measured/history?days=7")["items"]
    assert points == [{"day": TODAY.isoformat(), "inScope": 2, "done": 1, "notDone": 1, "percent": 50.0}]


def test_an_exempted_check_is_shown_with_reason_and_approver(client: FlaskClient) -> None:
    results = _ok(client, "/api/entities/product/default/web-shop/scorecards")["items"]
    kpis = next(c for c in results[0]["checks"] if c["id"] == "kpis")
    assert kpis["passed"] is True
    assert kpis["exempted"] == {"reason": "New analytics in March", "until": UNTIL, "approvedBy": "ann"}
    plain = _ok(client, "/api/entities/product/default/search/scorecards")["items"]
    assert all("exempted" not in c for c in plain[0]["checks"])


def test_the_gauge_counts_active_exemptions(client: FlaskClient) -> None:
    text = client.get("/metrics").get_data(as_text=True)
    family = next(f for f in text_string_to_metric_families(text) if f.name == "catalog_exemptions_active")
    assert [(s.labels, s.value) for s in family.samples] == [({"scorecard": "basics"}, 1.0)]


def test_the_openapi_description_lists_the_endpoints(client: FlaskClient) -> None:
    paths = _ok(client, "/api/openapi.json")["paths"]
    for path in (
        "/api/initiatives",
        "/api/initiatives/{name}",
        "/api/initiatives/{name}/history",
        "/api/initiatives/{name}/entities",
    ):
        assert "get" in paths[path], path


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/api/initiatives?owner=" + "x" * 700, 400, "owner"),
        ("/api/initiatives?owner=team:", 400, "owner"),
        ("/api/initiatives?limit=0", 400, "limit"),
        ("/api/initiatives?limit=abc", 400, "limit"),
        ("/api/initiatives?cursor=%00%01", 400, "cursor"),
        ("/api/initiatives?cursor=eyJrIjoic2NvcmVjYXJkcyIsImFmdGVyIjoieCJ9", 400, "cursor"),
        ("/api/initiatives?cursor=" + "A" * 5000, 400, "cursor"),
        ("/api/initiatives/measured/history?days=0", 400, "days"),
        ("/api/initiatives/measured/history?days=401", 400, "days"),
        ("/api/initiatives/measured/history?days=abc", 400, "days"),
        ("/api/initiatives/measured/history?days=-3", 400, "days"),
        ("/api/initiatives/measured/entities?done=maybe", 400, "done"),
        ("/api/initiatives/measured/entities?cursor=bm9wZQ", 400, "cursor"),
        ("/api/initiatives/nope", 404, "no initiative named 'nope'"),
        ("/api/initiatives/nope/history", 404, "no initiative named"),
        ("/api/initiatives/nope/entities", 404, "no initiative named"),
        ("/api/initiatives/" + "n" * 3000, 404, "no initiative named"),
        ("/api/initiatives/%E2%80%AE%00x", 400, "NUL characters are not allowed"),
        ("/api/initiatives/%E2%80%AEx%3Cscript%3E", 404, "no initiative named"),
    ],
)
def test_a_hostile_request_is_refused_naming_what_is_wrong(
    client: FlaskClient, url: str, status: int, words: str
) -> None:
    assert_error(client.get(url), status, words)


_EXEMPT = (
    "  exemptions: [{{scorecard: {card}, check: {check}, until: '{until}', reason: r, approvedBy: a}}]\n"
)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (
            _EXEMPT.format(card="nope", check="kpis", until="2020-01-01"),
            "spec.exemptions[0].scorecard",
            "unknown scorecard 'nope'",
        ),
        (
            _EXEMPT.format(card="basics", check="nope", until="2020-01-01"),
            "spec.exemptions[0].check",
            "scorecard 'basics' has no check 'nope' (its checks: has-owner, kpis)",
        ),
        (
            _EXEMPT.format(card="basics", check="kpis", until="2999-01-01"),
            "spec.exemptions[0].until",
            "must be at most 180 days ahead",
        ),
        (
            _EXEMPT.format(card="[basics]", check="kpis", until="2020-01-01"),
            "spec.exemptions[0].scorecard",
            "must be a string",
        ),
    ],
)
def test_validate_knows_the_published_scorecards(
    client: FlaskClient, body: str, field: str, words: str
) -> None:
    text = "apiVersion: catalog/v1\nkind: Product\nmetadata: {name: x}\nspec:\n  type: a\n"
    text += "  lifecycle: production\n"
    answer = client.post("/api/validate", data=text + body, content_type="application/yaml").get_json()
    assert answer["valid"] is False
    errors = [p for p in answer["problems"] if p["severity"] == "error"]
    assert [(p["field"], p["line"]) for p in errors] == [(field, 7)]
    assert words in errors[0]["message"]


def test_validate_checks_an_initiatives_level_against_its_scorecard(client: FlaskClient) -> None:
    text = (
        "apiVersion: catalog/v1\nkind: Initiative\nmetadata: {name: x}\nspec:\n  owner: platform\n"
        "  scorecard: basics\n  level: platinum\n  appliesTo: [kind=product]\n"
        "  startsOn: '2027-01-01'\n  dueOn: '2027-02-01'\n"
    )
    answer = client.post("/api/validate", data=text, content_type="application/yaml").get_json()
    errors = [p for p in answer["problems"] if p["severity"] == "error"]
    assert [(p["field"], p["line"]) for p in errors] == [("spec.level", 7)]
    assert "scorecard 'basics' has no level 'platinum' (its levels: bronze, silver)" in errors[0]["message"]
