"""Technical debt as the product model counts it: ``spec.techDebt`` items by team, product and severity,
kept by every re-score, served at ``/api/insights/tech-debt`` and as ``catalog_tech_debt_items``, on
SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.tools import app_with_metrics
from tests.integration.conftest import Catalog
from tests.integration.scoring_org import ScoredCatalog

TEAM = """\
apiVersion: catalog/v1
kind: Team
metadata: {name: payments}
spec:
  members: [{name: ada, role: product-owner}]
"""


def product(name: str, debt: str, owner: str = "payments") -> str:
    """A product descriptor with ``debt`` as its techDebt list (YAML flow items)."""
    return (
        "apiVersion: catalog/v1\nkind: Product\n"
        f"metadata: {{name: {name}}}\n"
        f"spec: {{type: service, lifecycle: production, owner: {owner}, capabilities: [checkout],"
        f" techDebt: [{debt}]}}\n"
    )


def gauge(catalog: Catalog) -> dict[str, float]:
    """``catalog_tech_debt_items`` by severity, as scraped."""
    app = app_with_metrics(catalog.settings, catalog.engine)
    text = app.test_client().get("/metrics").get_data(as_text=True)
    return {
        sample.labels["severity"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "catalog_tech_debt_items"
        for sample in family.samples
    }


def insight(catalog: Catalog, query: str = "") -> list[dict[str, Any]]:
    """Every team of ``/api/insights/tech-debt``."""
    app = app_with_metrics(catalog.settings, catalog.engine)
    body = app.test_client().get(f"/api/insights/tech-debt{query}").get_json()
    return list(body["items"])


def test_debt_is_counted_by_severity_ranked_by_team_and_listed_oldest_first(catalog: Catalog) -> None:
    scored = ScoredCatalog(catalog)
    catalog.repo(
        "pay",
        {
            ".catalog/team.yaml": TEAM,
            "catalog-info.yaml": product(
                "pay",
                "{title: new, severity: low, since: 2026-01-02},"
                " {title: old, severity: high, since: 2024-05-01}, {title: undated, severity: critical}",
            ),
        },
    )
    catalog.repo(
        "orphanless", {"catalog-info.yaml": product("lost", "{title: x, severity: medium}", owner="nobody")}
    )
    scored.sync()

    assert gauge(catalog) == {"low": 1, "medium": 1, "high": 1, "critical": 1}
    teams = insight(catalog)
    assert [team["team"] for team in teams] == ["team:default/payments", None]  # a critical item first
    assert [item["title"] for item in teams[0]["items"]] == ["old", "new", "undated"]
    assert teams[0]["bySeverity"] == {"low": 1, "medium": 0, "high": 1, "critical": 1}
    assert teams[1]["items"][0]["entityRef"] == "product:default/lost"
    assert [team["team"] for team in insight(catalog, "?severity=medium")] == [None]

    catalog.repo("pay", {"catalog-info.yaml": product("pay", "")})  # paid off
    catalog.repo("orphanless").delete("catalog-info.yaml")
    catalog.repo("orphanless", {"README.md": "gone\n"})
    scored.sync()
    assert gauge(catalog) == {"low": 0, "medium": 0, "high": 0, "critical": 0}  # an orphan's debt is nobody's
    assert insight(catalog) == []


def test_debt_of_an_unknown_severity_or_date_is_refused_naming_the_field(catalog: Catalog) -> None:
    scored = ScoredCatalog(catalog)
    catalog.repo("bad", {"catalog-info.yaml": product("bad", "{title: x, severity: apocalyptic}")})
    catalog.repo(
        "when", {"catalog-info.yaml": product("when", "{title: x, severity: low, since: last year}")}
    )
    scored.sync()
    messages = " ".join(f"{p['field']}: {p['message']}" for p in catalog.problems("descriptor"))
    assert "spec.techDebt.0.severity" in messages or "techDebt" in messages
    assert "must be one of" in messages
    assert "since" in messages
    assert "YYYY-MM-DD" in messages
    assert gauge(catalog) == {"low": 0, "medium": 0, "high": 0, "critical": 0}
