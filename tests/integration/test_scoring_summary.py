"""The scorecard summaries equal a GROUP BY over the results after every re-score, on both databases.

The API's scorecard summaries, the daily history and the ``catalog_scorecard_*`` gauges read the
summary tables the scorer keeps, not the results; these tests change the example organisation the
ways that move results (scores change, an owner changes, an entity is orphaned, deleted, deleted
before any re-score saw it go, a scorecard is removed) and compare, after each re-score, every
number shown with the same number computed from ``scorecard_results`` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Connection, Engine, Table, func, select

from catalog_sync.store.admin_store import SqlAdministration
from catalog_sync.store.base import Database
from catalog_sync.store.scoring import score_averages_by_owner, scorecard_level_counts
from catalog_sync.store.tables import (
    scorecard_history,
    scorecard_level_summary,
    scorecard_owner_summary,
    scorecard_results,
)
from tests.fixtures.tools import app_with_metrics
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.scoring_org import EXAMPLES, ScoredCatalog, build_example_org

Totals = dict[tuple[str, str], tuple[int, int]]

TEAMS = ".catalog/teams.yaml"
LOCATION = "catalog-info.yaml"
SECURITY = "./scorecards/security-baseline.yaml"
TEAM = """\
apiVersion: catalog/v1
kind: Team
metadata: {name: payments}
spec:
  members: [{name: ada, role: product-owner}, {name: grace, role: developer}]
"""


def grouped(conn: Connection, column: str) -> Totals:
    """``(scorecard, level or owner) -> (entities, score in tenths)`` straight from the results."""
    by = scorecard_results.c[column]
    query = select(
        scorecard_results.c.scorecard, by, func.count(), func.sum(scorecard_results.c.score)
    ).group_by(scorecard_results.c.scorecard, by)
    return {(row[0], row[1]): (int(row[2]), round(float(row[3]) * 10)) for row in conn.execute(query)}


def stored(conn: Connection, table: Table, column: str) -> Totals:
    """What a summary table holds, in the same shape."""
    return {
        (row.scorecard, row._mapping[column]): (row.entities, row.score_tenths)
        for row in conn.execute(select(table))
    }


def assert_summaries_agree(org: ScoredCatalog) -> Totals:
    """Every summary the API, the history and the gauges show equals the results; the owner totals."""
    with org.catalog.engine.connect() as conn:
        levels = grouped(conn, "level")
        owners = grouped(conn, "owner")
        assert stored(conn, scorecard_level_summary, "level") == levels
        assert stored(conn, scorecard_owner_summary, "owner") == owners
        gauge_levels = {(card, level): n for card, level, n in scorecard_level_counts(conn) if n}
        averages = score_averages_by_owner(conn)
        today = org.catalog.clock.now.date().isoformat()
        history = {
            (row.scorecard, row.level): (row.entities, round(row.score_sum * 10))
            for row in conn.execute(select(scorecard_history).where(scorecard_history.c.day == today))
            if row.entities
        }
    assert gauge_levels == {(card, level or "none"): n for (card, level), (n, _) in levels.items()}
    assert averages == sorted(
        (card, owner or "none", round(score / (10 * n), 2)) for (card, owner), (n, score) in owners.items()
    )
    assert history == levels
    page = org.reader.list_scorecards(None, 100)
    for item in page.items:
        mine = {level: n_score for (card, level), n_score in levels.items() if card == item["name"]}
        count = sum(n for n, _ in mine.values())
        assert item["summary"]["entities"] == count
        assert {k: v for k, v in item["summary"]["levels"].items() if v} == {
            level or "none": n for level, (n, _) in mine.items()
        }
        expected = round(sum(s for _, s in mine.values()) / (10 * count), 1) if count else None
        assert item["summary"]["averageScore"] == expected
    return owners


def scraped_averages(catalog: Catalog) -> dict[tuple[str, str], float]:
    """``catalog_scorecard_score_average`` as ``GET /metrics`` serves it."""
    text = (
        app_with_metrics(catalog.settings, catalog.engine)
        .test_client()
        .get("/metrics")
        .get_data(as_text=True)
    )
    return {
        (sample.labels["scorecard"], sample.labels["owner"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "catalog_scorecard_score_average"
        for sample in family.samples
    }


def _entity(catalog: Catalog, ref_key: str) -> dict[str, Any]:
    entity = catalog.entity(ref_key)
    assert entity is not None
    return entity


def test_the_summaries_follow_every_kind_of_rescore(tmp_path: Path, store_engine: Engine) -> None:
    catalog = Catalog(tmp_path, store_engine, sync={"orphan_policy": "delete", "orphan_grace_seconds": 3600})
    build_example_org(catalog)
    org = ScoredCatalog(catalog)
    org.sync()
    assert org.scorer.last_summary is not None
    assert org.scorer.last_summary.full
    owners = assert_summaries_agree(org)
    fulfilment = ("product-readiness", "team:default/fulfilment-team")
    assert owners[fulfilment] == (2, 895)  # 63.2 + 26.3

    # scores change: the fulfilment team gets an operations engineer
    teams = (EXAMPLES / "platform-catalog" / TEAMS).read_text()
    staffed = teams.replace(
        "    - {name: julia.novak, role: tester}\n",
        "    - {name: julia.novak, role: tester}\n    - {name: omar.farouk, role: operations}\n",
    )
    org.repo("platform-catalog").commit("operations joins fulfilment", files={TEAMS: staffed})
    org.sync()
    assert not org.scorer.last_summary.full
    assert assert_summaries_agree(org)[fulfilment] == (2, 1105)  # 73.7 + 36.8

    # an owner changes: shipping-labels moves to the payments team
    fulfilment_file = (EXAMPLES / "order-fulfilment" / "catalog-info.yaml").read_text()
    head, _, labels = fulfilment_file.partition("name: shipping-labels")
    moved = head + "name: shipping-labels" + labels.replace("owner: fulfilment-team", "owner: payments-team")
    org.repo("order-fulfilment").commit("labels change hands", files={"catalog-info.yaml": moved})
    org.sync()
    owners = assert_summaries_agree(org)
    assert owners[fulfilment][0] == 1
    assert owners[("product-readiness", "team:default/payments-team")][0] == 2

    # orphaned: the chatbot's descriptor goes; it is kept (grace) without results
    chatbot = org.repo("support-chatbot")
    chatbot.delete("catalog-info.yaml")
    chatbot.commit("no longer described")
    before = sum(n for (card, _), (n, _) in owners.items() if card == "product-readiness")
    org.sync()
    owners = assert_summaries_agree(org)
    assert sum(n for (card, _), (n, _) in owners.items() if card == "product-readiness") == before - 1

    # deleted after its grace, as an orphan without results
    catalog.clock.advance(hours=2)
    org.sync()
    assert catalog.entity("product:default/support-chatbot") is None
    assert_summaries_agree(org)

    # orphaned and deleted before any re-score: the database drops its results on its own
    before = sum(n for (card, _), (n, _) in owners.items() if card == "product-readiness")
    campaign = org.repo("campaign-pages")
    campaign.delete("catalog-info.yaml")
    campaign.commit("campaigns move to the marketing site")
    catalog.sync()  # a pass of a worker without the scorer: orphaned, results still there
    assert "product:default/campaign-pages" in org.scored("product-readiness")
    catalog.clock.advance(hours=2)
    catalog.sync()
    assert catalog.entity("product:default/campaign-pages") is None
    org.scorer.rescore([])
    owners = assert_summaries_agree(org)
    assert sum(n for (card, _), (n, _) in owners.items() if card == "product-readiness") == before - 1

    # a scorecard removed: the platform team's security baseline
    assert any(card == "security-baseline" for card, _ in owners)
    platform = org.repo("platform-catalog")
    location = (EXAMPLES / "platform-catalog" / LOCATION).read_text()
    platform.delete(SECURITY.removeprefix("./"))
    platform.commit(
        "no more security baseline", files={LOCATION: location.replace(f"    - {SECURITY}\n", "")}
    )
    org.sync()
    assert org.scorer.last_summary.full
    owners = assert_summaries_agree(org)
    assert {card for card, _ in owners} == {"product-readiness", "service-basics", "operational-readiness"}

    # a full re-score from scratch gives the very same totals, and the scrape shows them
    org.scorer.rescore(None)
    assert assert_summaries_agree(org) == owners
    assert scraped_averages(catalog) == {
        (card, owner or "none"): round(score / (10 * n), 2) for (card, owner), (n, score) in owners.items()
    }


def test_an_entity_deleted_and_its_id_reused_before_a_rescore(tmp_path: Path, store_engine: Engine) -> None:
    catalog = Catalog(tmp_path, store_engine, sync={"orphan_policy": "keep"})
    catalog.repo("org", {"catalog-info.yaml": TEAM})
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    org = ScoredCatalog(catalog)
    org.sync()
    catalog.repo("late", {"catalog-info.yaml": product_yaml("late", owner=None)})
    org.sync()
    owners = assert_summaries_agree(org)
    assert owners[("product-readiness", "")][0] == 1  # late has no owner

    late_id = _entity(catalog, "product:default/late")["id"]
    late = org.repo("late")
    late.delete("catalog-info.yaml")
    late.commit("gone")
    catalog.sync()  # orphaned, no re-score yet: its results are still there
    SqlAdministration(Database(catalog.engine)).delete_orphan(_entity(catalog, "product:default/late")["uid"])
    catalog.repo("later", {"catalog-info.yaml": product_yaml("later")})
    catalog.sync()
    if store_engine.dialect.name == "sqlite":  # SQLite gives the highest id again; PostgreSQL never does
        assert _entity(catalog, "product:default/later")["id"] == late_id
    org.scorer.rescore([])
    owners = assert_summaries_agree(org)
    assert ("product-readiness", "") not in owners
    assert owners[("product-readiness", "team:default/payments")][0] == 2  # pay and later
