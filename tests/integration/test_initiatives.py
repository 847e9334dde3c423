"""Exemptions and initiatives over real repositories, on SQLite and PostgreSQL, with the clock driven by hand.

An exemption is granted in the product's own descriptor and ends the day after its ``until`` without
any sync; an initiative counts its products per team day by day, is at risk while its burn-up stays
flat, and done when every product in scope has done what it asks.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from catalog_sync.store.base import Database, connection_of
from catalog_sync.store.scoring.initiatives import active_exemptions
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.scoring_org import ScoredCatalog

PLATFORM = """\
apiVersion: catalog/v1
kind: Scorecard
metadata: {name: basics}
spec:
  appliesTo: [kind=product]
  levels: [bronze, silver]
  checks:
    - {id: has-owner, title: Has an owner, level: bronze, rule: {ownerResolves: true}}
    - {id: kpis, title: KPIs defined, level: silver, rule: {field: spec.kpis, minItems: 1}}
---
apiVersion: catalog/v1
kind: Team
metadata: {name: payments}
spec:
  members: [{name: ada, role: developer}]
---
apiVersion: catalog/v1
kind: Team
metadata: {name: platform}
spec:
  members: [{name: grace, role: sre}]
"""

INITIATIVE = """\
apiVersion: catalog/v1
kind: Initiative
metadata: {{name: kpis-everywhere, title: Every product measured}}
spec:
  owner: platform
  scorecard: basics
  checks: [kpis]
  appliesTo: ["kind=product"]
  startsOn: "{starts}"
  dueOn: "{due}"
"""

KPIS = "  kpis: [{name: uptime, category: customer-satisfaction, target: 99.9}]\n"


def _exempted(name: str, until: date) -> str:
    return product_yaml(name) + (
        "  exemptions:\n"
        f"    - {{scorecard: basics, check: kpis, until: '{until.isoformat()}',\n"
        "       reason: Measured by the vendor until the move, approvedBy: team:platform}\n"
    )


def _org(catalog: Catalog) -> ScoredCatalog:
    catalog.config["scorecards"] = {"trusted_sources": ["fleet"]}
    org = ScoredCatalog(catalog)
    org.repo("platform").commit("the basics", files={"catalog-info.yaml": PLATFORM})
    return org


def _initiative(org: ScoredCatalog, name: str) -> dict[str, Any]:
    with org.reader.database.reading() as tx:
        return org.reader.reads.get_initiative(tx, name)


def _burn_up(org: ScoredCatalog, name: str, today: date) -> list[tuple[str, int, int]]:
    with org.reader.database.reading() as tx:
        points = org.reader.reads.initiative_history(tx, name, 30, today)
    return [(p["day"], p["inScope"], p["done"]) for p in points]


def test_an_exempted_check_passes_and_fails_again_the_day_after_until(catalog: Catalog) -> None:
    org = _org(catalog)
    org.sync()  # the scorecard is published first, as a platform repository's would be
    today = catalog.clock.now.date()
    org.repo("pay").commit("pay", files={"catalog-info.yaml": _exempted("pay", today + timedelta(days=2))})
    org.sync()
    kpis = org.result("basics", "product:default/pay")["checks"]["kpis"]
    assert kpis["passed"] is True
    assert kpis["exempted"] == {
        "reason": "Measured by the vendor until the move",
        "until": (today + timedelta(days=2)).isoformat(),
        "approvedBy": "team:platform",
    }
    assert kpis["message"].startswith(f"exempted until {(today + timedelta(days=2)).isoformat()}")
    assert org.result("basics", "product:default/pay")["level"] == "silver"
    with Database(catalog.engine).reading() as tx:
        assert active_exemptions(connection_of(tx)) == [("basics", 1)]

    catalog.clock.advance(days=2)  # the last day of the exemption: it still holds
    org.scorer.rescore([])
    assert org.result("basics", "product:default/pay")["checks"]["kpis"]["passed"] is True

    catalog.clock.advance(days=1)  # the day after: no sync, only the scorer's time-dependent re-score
    summary = org.scorer.rescore([])
    assert summary.entities >= 1
    after = org.result("basics", "product:default/pay")
    assert after["checks"]["kpis"]["passed"] is False
    assert "exempted" not in after["checks"]["kpis"]
    assert after["checks"]["kpis"]["message"].endswith(
        f"(its exemption ended on {(today + timedelta(days=2)).isoformat()})"
    )
    assert after["level"] == "bronze"
    with Database(catalog.engine).reading() as tx:
        assert active_exemptions(connection_of(tx)) == []


def test_an_exemption_naming_a_scorecard_published_later_is_read_again_once_it_is(
    catalog: Catalog,
) -> None:
    org = _org(catalog)
    today = catalog.clock.now.date()
    org.repo("pay").commit("pay", files={"catalog-info.yaml": _exempted("pay", today + timedelta(days=9))})
    org.sync()  # one first pass reads both repositories: basics is not published yet
    refused = [p for p in catalog.problems("descriptor") if "unknown scorecard 'basics'" in p["message"]]
    assert refused
    assert (refused[0]["field"], refused[0]["line"]) == ("spec.exemptions[0].scorecard", 11)
    org.sync()  # basics is published now: the fleet is read again and the exemption holds
    assert not [p for p in catalog.problems("descriptor") if "basics" in p["message"]]
    assert org.result("basics", "product:default/pay")["checks"]["kpis"]["passed"] is True


def test_an_initiative_burns_up_day_by_day_is_at_risk_when_flat_and_done_at_the_end(
    catalog: Catalog,
) -> None:
    org = _org(catalog)
    org.sync()
    start = catalog.clock.now.date()
    due = start + timedelta(days=10)
    org.repo("platform-initiatives").commit(
        "initiative",
        files={"catalog-info.yaml": INITIATIVE.format(starts=start.isoformat(), due=due.isoformat())},
    )
    org.repo("pay").commit("pay", files={"catalog-info.yaml": _exempted("pay", start + timedelta(days=60))})
    org.repo("shop").commit("shop", files={"catalog-info.yaml": product_yaml("shop")})
    org.repo("cart").commit("cart", files={"catalog-info.yaml": product_yaml("cart", owner="platform")})
    org.sync()
    first = _initiative(org, "kpis-everywhere")
    assert (first["inScope"], first["done"], first["notDone"], first["status"]) == (3, 1, 2, "active")
    assert first["teams"] == [
        {"team": "team:default/payments", "inScope": 2, "done": 1, "notDone": 1},
        {"team": "team:default/platform", "inScope": 1, "done": 0, "notDone": 1},
    ]
    assert first["atRisk"] is False  # one day of points: no trend yet

    for _ in range(3):  # three more days and nothing moves: the trend never reaches 100%
        catalog.clock.advance(days=1)
        org.scorer.rescore([])
    flat = _initiative(org, "kpis-everywhere")
    assert flat["atRisk"] is True
    assert flat["projected"] is not None
    assert abs(flat["projected"] - 1 / 3) < 0.01

    catalog.clock.advance(days=1)
    shop_kpis = product_yaml("shop") + KPIS
    org.repo("shop").commit("shop measures", files={"catalog-info.yaml": shop_kpis})
    org.sync()
    catalog.clock.advance(days=1)
    org.repo("cart").commit("cart measures", files={"catalog-info.yaml": product_yaml("cart") + KPIS})
    org.sync()
    done = _initiative(org, "kpis-everywhere")
    assert (done["inScope"], done["done"], done["status"], done["atRisk"]) == (3, 3, "done", False)
    days = [(start + timedelta(days=n)).isoformat() for n in range(6)]
    assert _burn_up(org, "kpis-everywhere", start + timedelta(days=5)) == [
        (days[0], 3, 1),
        (days[1], 3, 1),
        (days[2], 3, 1),
        (days[3], 3, 1),
        (days[4], 3, 2),
        (days[5], 3, 3),
    ]
    with org.reader.database.reading() as tx:
        covering = org.reader.reads.entity_initiatives(tx, "product:default/shop")
    assert [(i["name"], i["entityDone"]) for i in covering] == [("kpis-everywhere", True)]


def test_an_initiative_past_its_due_day_and_not_done_is_overdue_and_at_risk(catalog: Catalog) -> None:
    org = _org(catalog)
    org.sync()
    start = catalog.clock.now.date()
    org.repo("initiatives").commit(
        "initiative",
        files={"catalog-info.yaml": INITIATIVE.format(starts=start.isoformat(), due=start.isoformat())},
    )
    org.repo("shop").commit("shop", files={"catalog-info.yaml": product_yaml("shop")})
    org.sync()
    catalog.clock.advance(days=1)
    org.scorer.rescore([])
    late = _initiative(org, "kpis-everywhere")
    assert (late["status"], late["atRisk"], late["done"], late["inScope"]) == ("overdue", True, 0, 1)


def test_an_initiative_from_an_untrusted_source_is_refused_where_it_is_written(catalog: Catalog) -> None:
    org = ScoredCatalog(catalog)  # no trusted source
    start = catalog.clock.now.date()
    org.repo("rogue").commit(
        "initiative",
        files={"catalog-info.yaml": INITIATIVE.format(starts=start.isoformat(), due=start.isoformat())},
    )
    org.sync()
    messages = [p["message"] for p in catalog.problems("descriptor")]
    assert any("kind Initiative may be defined only in a trusted source" in m for m in messages)
    with org.reader.database.reading() as tx:
        assert org.reader.reads.list_initiatives(tx, None, 10, None).total == 0
