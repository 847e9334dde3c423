"""The product model's pages and their API over real HTTP: capabilities, teams, insights, tech debt and
what to fix next, each page's answer checked against the API's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from tests.fixtures.http import serving
from tests.integration.portal.html import Page, parse

BROWSER = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def base(app: Flask) -> Iterator[str]:
    """The portal's app on a loopback port."""
    with serving(app) as url:
        yield url


def page(base: str, path: str, status: int = 200) -> Page:
    """A page as a browser asks for it."""
    response = requests.get(base + path, headers=BROWSER, timeout=30)
    assert response.status_code == status, response.text[:2000]
    assert response.headers["Content-Type"].startswith("text/html")
    return parse(response.text)


def api(base: str, path: str, status: int = 200) -> Any:
    """An API answer."""
    response = requests.get(base + path, timeout=30)
    assert response.status_code == status, response.text[:2000]
    return response.json()


def every_item(base: str, path: str) -> list[dict[str, Any]]:
    """Every item of a paged list, following its cursors."""
    items: list[dict[str, Any]] = []
    url = path
    while True:
        body = api(base, url)
        items += body["items"]
        cursor = body["pageInfo"].get("nextCursor")
        if not cursor:
            return items
        url = f"{path}{'&' if '?' in path else '?'}cursor={cursor}"


def test_capabilities_show_the_products_serving_each_node(base: str) -> None:
    tree = page(base, "/capabilities")
    checkout = tree.ref_href("capability:default/checkout")
    assert checkout == "/catalog/capability/default/checkout"
    served = {link.title for link in tree.links if link.title and link.title.startswith("product:")}
    entity = api(base, "/api/catalog/entities/by-name/capability/default/checkout")
    parts = {
        r["targetRef"] for r in entity["relations"] if r["type"] == "hasPart" and "product:" in r["targetRef"]
    }
    assert parts <= served
    assert "Loyalty and rewards no product serves it" in tree.text
    assert (
        "served by 2 teams" in tree.text
    )  # checkout: the Checkout Squad's products and the payments gateway


def test_capabilities_narrow_to_unserved_and_duplicated_as_the_gaps_and_the_insight_say(base: str) -> None:
    unserved = page(base, "/capabilities?show=unserved")
    gaps = every_item(base, "/api/ownership/gaps?type=capability_without_product")
    for gap in gaps:
        assert unserved.ref_href(gap["entityRef"])
    assert "capability:default/checkout" not in {link.title for link in unserved.links}
    duplicated = page(base, "/capabilities?show=duplicated")
    overlap = every_item(base, "/api/insights/capability-overlap")
    assert overlap
    for item in overlap:
        assert duplicated.ref_href(item["capability"])
    assert "capability:default/loyalty" not in {link.title for link in duplicated.links}


def test_teams_directory_answers_as_the_team_summaries(base: str) -> None:
    directory = page(base, "/teams")
    rows = directory.rows_by_ref()
    assert set(rows) >= {
        "team:default/checkout-team",
        "team:default/fulfilment-team",
        "group:default/marketing-team",
    }
    checkout = rows["team:default/checkout-team"]
    summary = api(base, "/api/teams/checkout-team/summary")
    assert checkout[0] == "Checkout Squad"
    assert checkout[2] == str(summary["owned"]["count"])
    assert checkout[4] == "yes"
    assert rows["team:default/fulfilment-team"][4] == "no"
    assert directory.ref_href("team:default/checkout-team") == "/teams/checkout-team"


def test_teams_not_cross_functional_are_those_with_a_roles_gap(base: str) -> None:
    narrowed = page(base, "/teams?show=not-cross-functional").rows_by_ref()
    gaps = every_item(base, "/api/ownership/gaps?type=team_missing_roles") + every_item(
        base, "/api/ownership/gaps?type=team_without_members"
    )
    assert set(narrowed) == {gap["entityRef"] for gap in gaps}


def test_teams_sort_on_the_server_by_any_column_both_ways(base: str) -> None:
    by_debt = page(base, "/teams?sort=tech-debt&order=desc")
    debts = [int(row[-1].split()[0]) for row in by_debt.rows_by_ref().values()]
    assert debts == sorted(debts, reverse=True)
    header = [
        attrs for tag, attrs in by_debt.elements if tag == "th" and attrs.get("aria-sort") == "descending"
    ]
    assert len(header) == 1
    ascending = page(base, by_debt.href("Tech debt ▼"))
    assert [int(row[-1].split()[0]) for row in ascending.rows_by_ref().values()] == sorted(debts)
    by_name = list(page(base, "/teams?sort=team").rows_by_ref().values())
    assert [row[0].lower() for row in by_name] == sorted(row[0].lower() for row in by_name)
    gaps = [int(row[3]) for row in page(base, "/teams?sort=gaps&order=desc").rows_by_ref().values()]
    assert gaps == sorted(gaps, reverse=True)
    levels = page(base, "/teams?sort=level-product-readiness&order=desc")
    assert levels.rows_by_ref()


def test_tech_debt_api_ranks_teams_and_lists_the_oldest_first(base: str) -> None:
    teams = every_item(base, "/api/insights/tech-debt?limit=1")
    checkout = next(team for team in teams if team["team"] == "team:default/checkout-team")
    assert checkout["items"][0]["since"] == "2025-06-30"  # the cart's basket migration, the oldest
    assert [item["since"] for item in checkout["items"]][:2] == ["2025-06-30", "2026-02-17"]
    assert checkout["items"][-1]["since"] is None
    assert checkout["bySeverity"] == {"low": 1, "medium": 1, "high": 1, "critical": 0}
    assert checkout["total"] == 3
    unowned = next(team for team in teams if team["team"] is None)
    assert unowned["bySeverity"]["critical"] == 1  # pricing: its team left
    assert teams[0] is unowned or teams[0]["bySeverity"]["critical"] >= 1
    high = api(base, "/api/insights/tech-debt?severity=high")["items"]
    assert all(item["severity"] == "high" for team in high for item in team["items"])
    assert {team["team"] for team in high} >= {"team:default/checkout-team", "team:default/payments-team"}


def test_insights_page_ranks_the_four_insights_and_matches_the_api(base: str) -> None:
    insights = page(base, "/insights")
    load = every_item(base, "/api/insights/coordination-load")
    coordination = insights.rows_by_ref()
    for item in load:
        assert coordination[item["team"]][3] == str(item["total"])
    runbooks = every_item(base, "/api/insights/runbook-automation")
    assert f"Manual runbooks {sum(item['manual'] for item in runbooks)}" in insights.text
    debt = every_item(base, "/api/insights/tech-debt")
    assert f"Technical debt {sum(team['total'] for team in debt)}" in insights.text
    ranked = re.findall(
        r"(\d+) (?:capabilities|teams with cross-team dependencies|manual runbooks|items of debt)",
        insights.text,
    )
    counts = [int(found) for found in ranked[:4]]
    assert counts == sorted(counts, reverse=True)


def test_the_dependency_view_is_an_svg_a_person_can_read(base: str) -> None:
    insights = page(base, "/insights")
    svg = [attrs for tag, attrs in insights.elements if tag == "svg" and attrs.get("role") == "img"]
    assert len(svg) == 1
    edges = every_item(base, "/api/insights/coordination-load")
    names = [text for text in ("Checkout Squad", "Payments") if text in insights.text]
    assert names == ["Checkout Squad", "Payments"]
    lines = [attrs for tag, attrs in insights.elements if tag == "line"]
    assert len(lines) >= 1
    assert len(lines) <= sum(item["outgoing"] for item in edges)
    assert "depends on" in insights.text
    assert insights.scripts == 0


def test_tech_debt_section_filters_by_severity(base: str) -> None:
    critical = page(base, "/insights?severity=critical")
    assert "Promotion rules hard-coded for the 2022 summer sale" in critical.text
    assert "Baskets stored twice" not in critical.text


def test_team_next_api_and_page_agree(base: str) -> None:
    found = api(base, "/api/teams/checkout-team/next")
    assert found["team"] == "team:default/checkout-team"
    assert found["steps"]
    assert found["deadlines"] == []
    first = found["steps"][0]
    assert {"scorecard", "check", "title", "level", "how", "products", "unlocksFor"} <= set(first)
    ranks = []
    for step in found["steps"]:
        card = api(base, f"/api/scorecards/{step['scorecard']}")
        ranks.append(card["levels"].index(step["level"]))
    assert ranks == sorted(ranks)
    team = page(base, "/teams/checkout-team")
    assert f"What to fix next {found['totalSteps']}" in team.text
    shown = [row[0] for row in team.rows if row and row[0].startswith(first["title"])]
    assert shown
    assert team.ref_href(first["products"][0]).startswith("/catalog/product/")


def test_entity_page_shows_what_to_fix_next_for_that_entity(base: str) -> None:
    entity = page(base, "/catalog/product/default/web-shop")
    results = api(base, "/api/scorecards/entity/product/default/web-shop")["items"] if False else None
    assert results is None
    text = entity.text
    assert "What to fix next" in text
    assert text.index("What to fix next") < text.index("Scorecards Operational readiness")


@pytest.mark.parametrize(
    "path",
    [
        "/capabilities?show=%3Cscript%3E",
        "/capabilities?show=" + "x" * 5000,
        "/teams?sort=members;drop",
        "/teams?sort=gaps&order=sideways",
        "/teams?show=everyone",
        "/teams?sort=level-%3Cb%3E",
        "/insights?severity=%27%3B--",
        "/insights?severity=" + "é" * 300,
    ],
)
def test_hostile_query_strings_on_the_new_pages_answer_400_pages_naming_the_parameter(
    base: str, path: str
) -> None:
    refused = page(base, path, status=400)
    parameter = re.search(r"[?&](\w+)=[^&]*$", path)
    assert parameter is not None
    assert parameter.group(1) in refused.text
    assert refused.scripts == 0  # shown as text, never as markup
    assert not [tag for tag, _ in refused.elements if tag == "b"]


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/insights/tech-debt?severity=%3Cscript%3E", "severity"),
        ("/api/insights/tech-debt?limit=-1", "limit"),
        ("/api/insights/tech-debt?cursor=not-a-cursor", "cursor"),
        ("/api/teams/checkout-team/next?namespace=" + "n" * 100, "namespace"),
    ],
)
def test_hostile_query_strings_on_the_new_endpoints_answer_400_json(
    base: str, path: str, parameter: str
) -> None:
    response = requests.get(base + path, timeout=30)
    assert response.status_code == 400
    assert parameter in response.json()["error"]["message"]


def test_an_unknown_team_has_nothing_to_fix_but_a_404(base: str) -> None:
    response = requests.get(base + "/api/teams/no-such-team/next", timeout=30)
    assert response.status_code == 404
    assert "no-such-team" in response.json()["error"]["message"]
    assert "no-such-team" in page(base, "/teams/no-such-team", status=404).text
