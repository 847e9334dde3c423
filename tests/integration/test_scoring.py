"""Scorecards and ownership gaps over real repositories and real sync passes, on SQLite and PostgreSQL.

The organisation is the example one (``descriptors/examples``), whose deliberate gaps are documented;
later passes change it the way teams do (a team leaves, a descriptor is deleted, a member joins) and
the tests assert exactly what scoring then stores.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest

from catalog_sync.scoring.gaps import GAP_TYPES
from catalog_sync.store.scoring import gap_counts, score_averages_by_owner, scorecard_level_counts
from tests.integration.conftest import Catalog
from tests.integration.scoring_org import (
    EXAMPLE_GAPS,
    EXAMPLES,
    ScoredCatalog,
    build_example_org,
    without_document,
)

TEAMS = ".catalog/teams.yaml"
PIPELINE = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: data-pipeline}
spec: {type: service, lifecycle: experimental}
"""


@pytest.fixture
def org(catalog: Catalog, caplog: pytest.LogCaptureFixture) -> Iterator[ScoredCatalog]:
    """The example organisation, synced and scored once; no re-score may fail silently."""
    build_example_org(catalog)
    scored = ScoredCatalog(catalog)
    scored.sync()
    yield scored
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("catalog_sync")]
    assert failures == []


def test_the_example_organisation_has_exactly_its_deliberate_gaps(org: ScoredCatalog) -> None:
    assert org.gaps() == EXAMPLE_GAPS
    page, summary = org.reader.gaps(gap_type=None, owner=None, after=None, limit=500)
    assert set(summary) == set(GAP_TYPES)
    for gap_type in GAP_TYPES:
        assert summary[gap_type] == sum(1 for item in page.items if item["type"] == gap_type)
    assert page.total == len(EXAMPLE_GAPS)
    pricing = next(item for item in page.items if item["type"] == "unknown_owner")
    assert pricing["owner"] == "team:default/team-that-left"
    assert "team:default/team-that-left is not a Team or Group" in pricing["detail"]
    roles = next(item for item in page.items if item["type"] == "team_missing_roles")
    assert "operations" in roles["detail"]


def test_gaps_of_every_type_follow_the_organisation_as_it_changes(org: ScoredCatalog) -> None:
    platform = org.repo("platform-catalog")
    teams = (EXAMPLES / "platform-catalog" / TEAMS).read_text()
    platform.commit("platform-team disbanded", files={TEAMS: without_document(teams, "platform-team")})
    chatbot = org.repo("support-chatbot")
    chatbot.delete("catalog-info.yaml")
    chatbot.commit("the chatbot is no longer described")
    org.repo("data-pipeline").commit(
        "a Backstage component nobody owns yet", files={"catalog-info.yaml": PIPELINE}
    )
    org.sync()
    assert org.gaps() == (EXAMPLE_GAPS - {("missing_owner", "product:default/support-chatbot")}) | {
        # the team's descriptor is gone: it is kept as an orphan, and what it owns is orphaned
        ("orphaned_entity", "team:default/platform-team"),
        ("orphaned_owner", "product:default/incident-automation"),
        ("orphaned_owner", "capability:default/service-operations"),
        # the chatbot is an orphan now; the capability it served is served by nothing else
        ("orphaned_entity", "product:default/support-chatbot"),
        ("capability_without_product", "capability:default/customer-support"),
        ("repository_without_descriptor", "support-chatbot"),
        # a new component: no owner, and no system to give it a capability
        ("missing_owner", "component:default/data-pipeline"),
        ("product_without_capability", "component:default/data-pipeline"),
    }
    covered = {gap_type for gap_type, _ in org.gaps()}
    assert covered == set(GAP_TYPES)
    page, summary = org.reader.gaps(gap_type=None, owner=None, after=None, limit=500)
    assert {(i["type"], i["entityRef"] or i["repository"]["name"]) for i in page.items} == org.gaps()
    assert all(summary[t] == sum(1 for i in page.items if i["type"] == t) for t in GAP_TYPES)
    result = org.result("product-readiness", "product:default/incident-automation")
    assert result["checks"]["owner-resolves"]["passed"] is False
    assert "is an orphan" in result["checks"]["owner-resolves"]["message"]


def test_levels_and_scores_of_the_example_products(org: ScoredCatalog) -> None:
    # product-readiness weighs 19 in all: bronze 3+2+1+1, silver 2+2+1+1+1, gold 2+1+2. Nothing is
    # measured here (no measuring round ran), so no product has a KPI met: gold is out of reach.
    automation = org.result("product-readiness", "product:default/incident-automation")
    assert (automation["level"], automation["score"]) == ("silver", 89.5)  # 17/19
    assert automation["checks"]["kpis-met"]["message"] == "0 of 4 KPIs met (1 needed)"
    assert automation["checks"]["automated-runbooks"]["value"] == 3
    payments = org.result("product-readiness", "product:default/payments-gateway")
    assert (payments["level"], payments["score"]) == ("silver", 78.9)  # 15/19: no automated runbook
    assert payments["checks"]["kpis-two-categories"]["value"] == 5
    fulfilment = org.result("product-readiness", "product:default/fulfilment-service")
    assert (fulfilment["level"], fulfilment["score"]) == ("bronze", 63.2)  # 12/19
    assert fulfilment["checks"]["cross-functional-team"]["value"] == ["operations"]
    assert fulfilment["checks"]["runbooks-present"]["value"] == 0
    labels = org.result("product-readiness", "product:default/shipping-labels")
    assert (labels["level"], labels["score"]) == ("", 26.3)  # owner, commits, descriptor: 5/19
    assert labels["checks"]["capability-aligned"]["passed"] is False
    # service-basics: the Backstage component has everything but CODEOWNERS (weight 1 of 8)
    newsletter = org.result("service-basics", "component:default/newsletter-service")
    assert (newsletter["level"], newsletter["score"]) == ("bronze", 87.5)
    # a scorecard described in the catalog (the platform team's) is evaluated like the built-in ones
    security = org.result("security-baseline", "product:default/payments-gateway")
    assert (security["level"], security["score"]) == ("gold", 100.0)
    group_owned = org.result("security-baseline", "component:default/newsletter-service")
    assert "Backstage Group" in group_owned["checks"]["security-in-team"]["message"]
    # appliesTo: production and experimental products only; the example has no other kind of product
    products = ["web-shop", "cart", "pricing", "payments-gateway", "fulfilment-service"]
    products += ["shipping-labels", "incident-automation", "support-chatbot", "campaign-pages"]
    assert org.scored("product-readiness") == {f"product:default/{name}" for name in products}


def test_editing_a_teams_members_rescores_its_products_after_one_pass(org: ScoredCatalog) -> None:
    untouched = org.result("product-readiness", "product:default/payments-gateway")["evaluated_at"]
    teams = (EXAMPLES / "platform-catalog" / TEAMS).read_text()
    staffed = teams.replace(
        "    - {name: julia.novak, role: tester}\n",
        "    - {name: julia.novak, role: tester}\n    - {name: omar.farouk, role: operations}\n",
    )
    assert staffed != teams
    org.repo("platform-catalog").commit("fulfilment gets an operations engineer", files={TEAMS: staffed})
    org.sync()
    fulfilment = org.result("product-readiness", "product:default/fulfilment-service")
    assert fulfilment["checks"]["cross-functional-team"]["passed"] is True
    assert fulfilment["checks"]["cross-functional-team"]["value"] == []
    assert (fulfilment["level"], fulfilment["score"]) == ("bronze", 73.7)  # still no runbook: 14/19
    labels = org.result("product-readiness", "product:default/shipping-labels")
    assert labels["score"] == 36.8  # 7/19
    assert ("team_missing_roles", "team:default/fulfilment-team") not in org.gaps()
    # only what depends on the team was evaluated again
    assert org.result("product-readiness", "product:default/payments-gateway")["evaluated_at"] == untouched


def test_history_accumulates_one_point_per_day(org: ScoredCatalog) -> None:
    today = org.catalog.clock.now.date()
    first = org.reader.history("product-readiness", 30, today)
    assert [point["day"] for point in first] == [today.isoformat()]
    assert first[0]["entities"] == 9
    assert first[0]["levels"] == {"none": 4, "bronze": 1, "silver": 4, "gold": 0}
    org.sync()  # nothing changed the same day: still one point
    assert len(org.reader.history("product-readiness", 30, today)) == 1
    org.catalog.clock.advance(days=1)
    org.sync()
    tomorrow = org.catalog.clock.now.date()
    points = org.reader.history("product-readiness", 30, tomorrow)
    assert [point["day"] for point in points] == [today.isoformat(), tomorrow.isoformat()]
    assert points[1]["entities"] == 9
    assert org.reader.history("product-readiness", 1, tomorrow) == points[1:]


def test_results_that_depend_on_time_change_as_time_passes(org: ScoredCatalog) -> None:
    automation = org.result("product-readiness", "product:default/incident-automation")
    assert automation["checks"]["recent-commits"]["passed"] is True
    org.catalog.clock.advance(days=100)
    summary = org.scorer.rescore([])
    assert not summary.full
    automation = org.result("product-readiness", "product:default/incident-automation")
    assert automation["checks"]["recent-commits"]["passed"] is False
    facts = json.loads(org.catalog.repository("ops-runbooks")["facts"])
    age = org.catalog.clock.now - datetime.fromisoformat(facts["last_commit_at"])
    assert automation["checks"]["recent-commits"]["value"] == age.days >= 99
    assert automation["checks"]["descriptor-reviewed"]["passed"] is True
    assert (automation["level"], automation["score"]) == ("bronze", 84.2)  # 16/19, silver failed


def test_a_capability_that_disappears_rescores_the_products_aligned_with_it(org: ScoredCatalog) -> None:
    path = ".catalog/capabilities.yaml"
    capabilities = (EXAMPLES / "platform-catalog" / path).read_text()
    org.repo("platform-catalog").commit(
        "fulfilment is outsourced", files={path: without_document(capabilities, "fulfilment")}
    )
    org.sync()
    gaps = org.gaps()
    assert ("product_without_capability", "product:default/fulfilment-service") in gaps
    assert ("orphaned_entity", "capability:default/fulfilment") in gaps
    result = org.result("product-readiness", "product:default/fulfilment-service")
    assert result["checks"]["capability-aligned"]["passed"] is False
    assert result["level"] == ""


def test_the_aggregates_the_metrics_read(org: ScoredCatalog) -> None:
    with org.catalog.engine.connect() as conn:
        gaps = gap_counts(conn)
        levels = scorecard_level_counts(conn)
        averages = dict(((card, owner), value) for card, owner, value in score_averages_by_owner(conn))
    assert sorted((gap_type, tier) for gap_type, tier, _ in gaps) == sorted(
        [
            ("capability_without_product", "none"),
            ("individual_owner", "3"),
            ("missing_owner", "3"),
            ("product_without_capability", "3"),
            ("repository_without_descriptor", "none"),
            ("team_missing_roles", "none"),
            ("team_without_members", "none"),
            ("unknown_owner", "2"),
        ]
    )
    assert sum(count for _, _, count in gaps) == len(EXAMPLE_GAPS)
    readiness = {level: count for card, level, count in levels if card == "product-readiness"}
    assert readiness == {"none": 4, "bronze": 1, "silver": 4, "gold": 0}  # no KPI measured, none met
    basics = {level: count for card, level, count in levels if card == "service-basics"}
    assert basics == {"none": 0, "bronze": 1, "silver": 0, "gold": 0}  # every level, even when empty
    # fulfilment-service 63.2 and shipping-labels 26.3; the three unowned products average as "none"
    assert averages[("product-readiness", "team:default/fulfilment-team")] == 44.75
    assert ("product-readiness", "none") in averages
