"""The scoring store's two protocols, held to one contract on SQLite and on PostgreSQL.

``ScoringStore`` is what a re-score reads and writes in one locked transaction; ``ScoringReads`` is
what the API and the portal read. The catalog is built for real (git repositories, a sync pass) and
scored by the ``Scorer`` through ``SqlScoringStore``; the tests then ask each protocol what a user of
the API or a worker would rely on.
"""

from __future__ import annotations

from typing import Any

import pytest

from catalog_sync.errors import NotFoundError
from catalog_sync.scoring.teams import team_document
from catalog_sync.store.base import Database
from catalog_sync.store.scoring import ScoringReads, ScoringStore, SqlScoringReads, SqlScoringStore
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.scoring_org import scorer_for

TEAMS = """\
apiVersion: catalog/v1
kind: Team
metadata:
  name: payments
spec:
  members:
    - {name: ada, role: product-owner}
    - {name: grace, role: developer}
---
apiVersion: catalog/v1
kind: Team
metadata:
  name: web
spec:
  members:
    - {name: linus, role: developer}
---
apiVersion: catalog/v1
kind: Capability
metadata:
  name: checkout
spec:
  owner: payments
---
apiVersion: catalog/v1
kind: Capability
metadata:
  name: search
spec:
  owner: web
"""


def _depending(name: str, owner: str, capabilities: tuple[str, ...], depends_on: tuple[str, ...]) -> str:
    text = product_yaml(name, owner=owner, capabilities=capabilities)
    if depends_on:
        text += "  dependsOn: [" + ", ".join(f"product:{d}" for d in depends_on) + "]\n"
    return text


@pytest.fixture
def scored(catalog: Catalog) -> Catalog:
    """Two teams sharing a capability, with products depending on each other's, synced and scored."""
    catalog.repo("platform", {"catalog-info.yaml": TEAMS})
    catalog.repo(
        "pay-api", {"catalog-info.yaml": _depending("pay-api", "payments", ("checkout",), ("shop",))}
    )
    catalog.repo(
        "ledger", {"catalog-info.yaml": _depending("ledger", "payments", ("checkout",), ("pay-api",))}
    )
    catalog.repo(
        "shop", {"catalog-info.yaml": _depending("shop", "web", ("checkout", "search"), ("pay-api",))}
    )
    catalog.sync()
    scorer_for(catalog).rescore(None)
    return catalog


def _store(catalog: Catalog) -> tuple[Database, ScoringStore, ScoringReads]:
    database = Database(catalog.engine)
    return database, SqlScoringStore(database), SqlScoringReads(database)


def _rescore_and_die(store: ScoringStore) -> None:
    with store.rescoring() as tx:
        store.write_state(tx, {"digest": "changed"})
        store.clear_all(tx)
        raise RuntimeError("the worker died")


def test_a_failed_rescore_transaction_leaves_what_was_there(scored: Catalog) -> None:
    _, store, _ = _store(scored)
    with store.rescoring() as tx:
        before = store.read_state(tx, "digest")
    assert before
    with pytest.raises(RuntimeError):
        _rescore_and_die(store)
    with store.rescoring() as tx:
        assert store.read_state(tx, "digest") == before
        assert store.find_changes(tx).entities == {}


def test_what_changed_is_found_in_the_database_until_it_is_scored(scored: Catalog) -> None:
    _, store, _ = _store(scored)
    scored.repo("shop", {"catalog-info.yaml": _depending("shop", "web", ("search",), ())})
    scored.sync()
    with store.rescoring() as tx:
        changes = store.find_changes(tx)
        assert set(changes.entities.values()) == {"product:default/shop"}
        readers = store.dependents(tx, set(changes.entities.values()), set())
        assert readers  # pay-api read shop (it depends on it)
    scorer_for(scored).rescore([])
    with store.rescoring() as tx:
        assert store.find_changes(tx).entities == {}


def test_clearing_an_entity_hands_back_what_it_added_to_the_summaries(scored: Catalog) -> None:
    database, store, reads = _store(scored)
    with database.reading() as tx:
        card = reads.list_scorecards(tx, None, 100).items[0]
        entity = scored.entity("product:default/ledger")
    assert entity is not None
    with store.rescoring() as tx:
        added = store.clear_entities(tx, [entity["id"]])
    assert [before.owner for before in added] == ["team:default/payments"]
    assert any(card["name"] == tally[0] for before in added for tally in before.tallies)
    assert added[0].served == ["capability:default/checkout"]


def test_a_team_summary_agrees_with_the_whole_catalog_insights(scored: Catalog) -> None:
    database, _, reads = _store(scored)
    with database.reading() as tx:
        overlap = reads.insight(tx, "capability-overlap")
        loads = {row["team"]: row for row in reads.insight(tx, "coordination-load")}
        runbooks = {row["team"]: row for row in reads.insight(tx, "runbook-automation")}
        summaries = {name: team_document(reads.team_summary(tx, name)) for name in ("payments", "web")}
    assert [item["capability"] for item in overlap] == ["capability:default/checkout"]
    for name, summary in summaries.items():
        key = f"team:default/{name}"
        insights: dict[str, Any] = summary["insights"]
        load = loads[key]
        assert insights["dependencies"] == {
            "outgoing": load["outgoing"],
            "incoming": load["incoming"],
            "teams": load["teams"],
        }
        assert insights["runbooks"]["manual"] == runbooks.get(key, {}).get("manual", 0)
        assert insights["sharedCapabilities"] == [
            {
                "capability": "capability:default/checkout",
                "teams": [t["team"] for t in overlap[0]["teams"] if t["team"] != key],
            }
        ]
    payments = summaries["payments"]
    assert payments["insights"]["dependencies"] == {
        "outgoing": 1,
        "incoming": 1,
        "teams": ["team:default/web"],
    }
    assert payments["owned"]["count"] == 3  # two products and the capability it owns
    assert payments["members"]["byRole"] == {"developer": ["grace"], "product-owner": ["ada"]}


def test_a_capability_no_longer_shared_drops_out_after_the_next_incremental_rescore(scored: Catalog) -> None:
    database, _, reads = _store(scored)
    scored.repo("shop", {"catalog-info.yaml": _depending("shop", "web", ("search",), ("pay-api",))})
    scored.sync()
    scorer_for(scored).rescore([])
    with database.reading() as tx:
        assert reads.insight(tx, "capability-overlap") == []
        web = team_document(reads.team_summary(tx, "web"))
        kept = [reads.insight(tx, name) for name in ("coordination-load", "runbook-automation")]
    assert web["insights"]["sharedCapabilities"] == []
    scorer_for(scored).rescore(None)  # counted incrementally, as a full re-score counts from scratch
    with database.reading() as tx:
        assert reads.insight(tx, "capability-overlap") == []
        assert [reads.insight(tx, name) for name in ("coordination-load", "runbook-automation")] == kept
        assert team_document(reads.team_summary(tx, "web")) == web


def test_reads_name_what_is_missing(scored: Catalog) -> None:
    database, _, reads = _store(scored)
    with database.reading() as tx:
        with pytest.raises(NotFoundError, match="no Team or Group named 'nobody'"):
            reads.team_summary(tx, "nobody")
        with pytest.raises(NotFoundError, match="no scorecard named 'nothing'"):
            reads.get_scorecard(tx, "nothing")
        with pytest.raises(NotFoundError, match="no insight named 'luck'"):
            reads.insight(tx, "luck")


def test_the_product_model_reads_agree_with_the_insights_and_the_summaries(scored: Catalog) -> None:
    database, _, reads = _store(scored)
    with database.reading() as tx:
        tree = {node["entityRef"]: node for node in reads.capability_tree(tx)}
        directory = {row["entityRef"]: row for row in reads.team_directory(tx)}
        edges = reads.insight(tx, "team-dependencies")
        loads = {row["team"]: row for row in reads.insight(tx, "coordination-load")}
        owned = reads.owner_results(tx, "team:default/payments", 100)
        one = reads.entity_results(tx, "product:default/pay-api")
        summary = team_document(reads.team_summary(tx, "payments"))
    checkout = tree["capability:default/checkout"]
    assert [item["entityRef"] for item in checkout["products"]] == [
        "product:default/ledger",
        "product:default/pay-api",
        "product:default/shop",
    ]
    assert checkout["duplicated"] is True
    assert checkout["unserved"] is False
    assert tree["capability:default/search"]["duplicated"] is False
    assert edges == [
        {"from": "team:default/payments", "to": "team:default/web", "dependencies": 1},
        {"from": "team:default/web", "to": "team:default/payments", "dependencies": 1},
    ]
    payments = directory["team:default/payments"]
    assert payments["owned"] == summary["owned"]["count"]
    assert payments["dependencies"]["total"] == loads["team:default/payments"]["total"]
    assert payments["crossFunctional"] is False  # no one in operations
    assert set(payments["scorecards"]) == {card["scorecard"] for card in summary["scorecards"]}
    assert {result["entityRef"] for result in owned} == {"product:default/ledger", "product:default/pay-api"}
    assert all(result["levels"] and result["checks"] for result in owned)
    assert {result["scorecard"] for result in one} == {
        result["scorecard"] for result in owned if result["entityRef"] == "product:default/pay-api"
    }
    assert all("description" in check for result in one for check in result["checks"])
