"""A hostile catalog cannot grow ``/metrics``: every label chosen by descriptors is bounded, on SQLite and
PostgreSQL, and the folded numbers still add up to the catalog's.

One descriptor file with thousands of invented lifecycles once added a ``catalog_entities`` series per
lifecycle. Here one real repository invents 250 lifecycles, 120 teams owning what it declares, an
unknown kind and bad tiers, each team a product with KPIs, and the operator's scorecard folder holds
30 scorecards of 12 levels.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from catalog_sync.descriptors.kinds_ours import LIFECYCLES
from catalog_sync.descriptors.kpis import KPI_CATEGORIES, STATUSES
from catalog_sync.metric_labels import (
    KNOWN_KINDS,
    KNOWN_TIERS,
    MAX_LEVELS,
    MAX_OWNERS,
    MAX_SCORECARDS,
    NONE_LABEL,
    OTHER_LABEL,
)
from catalog_sync.scoring.gaps import GAP_TYPES
from catalog_sync.store.tables import scorecard_results
from tests.fixtures.tools import app_with_metrics
from tests.integration.conftest import Catalog
from tests.integration.scoring_org import ScoredCatalog

COMPONENTS = 250
TEAMS = 120
SCORECARDS = 30
LEVELS = 12

BOUNDS = {
    "catalog_entities": (len(KNOWN_KINDS) + 1) * (len(LIFECYCLES) + 2),
    "catalog_ownership_gaps": (len(GAP_TYPES) + 1) * (len(KNOWN_TIERS) + 2),
    "catalog_scorecard_entities": (MAX_SCORECARDS + 1) * (MAX_LEVELS + 2),
    "catalog_scorecard_score_average": (MAX_SCORECARDS + 1) * (MAX_OWNERS + 2),
    "catalog_repositories": 4,
    "catalog_source_listing_ok": 1,  # one per configured source, whatever the repositories hold
    "catalog_descriptor_errors": 1,
    "catalog_entity_conflicts": 1,
    "catalog_sync_last_success_timestamp_seconds": 1,
    "catalog_tech_debt_items": 4,
    "catalog_kpis": (len(KPI_CATEGORIES) + 1) * len(STATUSES),
    "catalog_team_kpis": (MAX_OWNERS + 2) * (len(KPI_CATEGORIES) + 1) * len(STATUSES),
}
"""The most series each catalog-state family can have, from its known label values (plus ``other``
and ``none`` where they apply): what no catalog, however hostile, can exceed."""


def hostile_descriptors() -> str:
    documents = []
    for i in range(TEAMS):
        documents.append(
            "apiVersion: catalog/v1\nkind: Team\n"
            f"metadata: {{name: team-{i:03d}}}\n"
            "spec: {members: [{name: ada, role: developer}]}\n"
        )
    for i in range(COMPONENTS):
        documents.append(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
            f"metadata: {{name: thing-{i:03d}}}\n"
            f"spec: {{type: service, lifecycle: invented-{i:03d}, owner: team:team-{i % TEAMS:03d}}}\n"
        )
    for i in range(TEAMS):
        documents.append(
            "apiVersion: catalog/v1\nkind: Product\n"
            f"metadata: {{name: product-{i:03d}}}\n"
            f"spec:\n  type: service\n  lifecycle: production\n  owner: team:team-{i:03d}\n  kpis:\n"
            "    - {name: Lead time, category: speed-to-market, target: 5}\n"
            "    - {name: Survey, category: customer-satisfaction, target: 4, measure: {push: true}}\n"
        )
    documents.append("apiVersion: catalog/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {}\n")
    documents.append(
        "apiVersion: catalog/v1\nkind: Product\nmetadata: {name: tiered}\n"
        "spec: {type: service, lifecycle: production, tier: 99}\n"
    )
    return "---\n".join(documents)


def scorecard_file(index: int) -> str:
    levels = [f"step-{level:02d}" for level in range(LEVELS)]
    rule = "{field: metadata.name, matches: '[0-%d]$'}"
    checks = "\n".join(
        f"    - {{id: c{n}, title: Check {n}, level: {level}, rule: {rule % n}}}"
        for n, level in enumerate(levels[:10])
    )
    return (
        "apiVersion: catalog/v1\nkind: Scorecard\n"
        f"metadata: {{name: card-{index:02d}}}\n"
        f"spec:\n  appliesTo: [kind=component]\n  levels: [{', '.join(levels)}]\n  checks:\n{checks}\n"
    )


def series(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in BOUNDS:
                found[sample.name].append((dict(sample.labels), sample.value))
    return found


def test_a_hostile_catalog_cannot_grow_metrics_and_the_numbers_still_add_up(
    catalog: Catalog, tmp_path: Path
) -> None:
    cards = tmp_path / "cards"
    cards.mkdir()
    for index in range(SCORECARDS):
        (cards / f"card-{index:02d}.yaml").write_text(scorecard_file(index))
    catalog.config["scorecards"] = {"paths": [str(cards)]}
    catalog.repo("hostile", {"catalog-info.yaml": hostile_descriptors()})
    ScoredCatalog(catalog).sync()

    text = (
        app_with_metrics(catalog.settings, catalog.engine)
        .test_client()
        .get("/metrics")
        .get_data(as_text=True)
    )
    found = series(text)
    exposed = sum(1 for line in text.splitlines() if line.split("{")[0].split(" ")[0] in BOUNDS)
    assert exposed == sum(len(samples) for samples in found.values())
    assert exposed <= sum(BOUNDS.values()), exposed
    for name, bound in BOUNDS.items():
        assert len(found[name]) <= bound, f"{name} has {len(found[name])} series"

    entities = found["catalog_entities"]
    assert {labels["lifecycle"] for labels, _ in entities} <= {*LIFECYCLES, NONE_LABEL, OTHER_LABEL}
    assert {labels["kind"] for labels, _ in entities} <= KNOWN_KINDS | {OTHER_LABEL}
    assert sum(value for _, value in entities) == len(catalog.refs())
    invented = next(v for labels, v in entities if labels == {"kind": "component", "lifecycle": OTHER_LABEL})
    assert invented == COMPONENTS
    assert {labels["tier"] for labels, _ in found["catalog_ownership_gaps"]} <= {*KNOWN_TIERS, NONE_LABEL}

    with catalog.engine.connect() as conn:
        results = conn.execute(
            select(scorecard_results.c.scorecard, scorecard_results.c.owner, scorecard_results.c.score)
        ).all()
    levels = found["catalog_scorecard_entities"]
    named_cards = {labels["scorecard"] for labels, _ in levels} - {OTHER_LABEL}
    assert len(named_cards) == MAX_SCORECARDS
    assert {"product-readiness", "service-basics"} <= named_cards, "the built-in scorecards keep their names"
    assert sum(v for labels, v in levels if labels["scorecard"] == OTHER_LABEL) == sum(
        1 for row in results if row.scorecard not in named_cards
    )
    assert sum(value for _, value in levels) == len(results)
    for card in named_cards:
        card_levels = {labels["level"] for labels, _ in levels if labels["scorecard"] == card}
        assert len(card_levels - {NONE_LABEL, OTHER_LABEL}) <= MAX_LEVELS

    averages = found["catalog_scorecard_score_average"]
    named_owners = {labels["owner"] for labels, _ in averages} - {NONE_LABEL, OTHER_LABEL}
    assert len(named_owners) == MAX_OWNERS
    scores: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in results:
        card = row.scorecard if row.scorecard in named_cards else OTHER_LABEL
        owner = NONE_LABEL if not row.owner else row.owner if row.owner in named_owners else OTHER_LABEL
        scores[(card, owner)].append(row.score)
    assert {(labels["scorecard"], labels["owner"]) for labels, _ in averages} == set(scores)
    for labels, value in averages:
        values = scores[(labels["scorecard"], labels["owner"])]
        assert abs(value - sum(values) / len(values)) < 0.06, labels

    team_kpis = found["catalog_team_kpis"]
    owners = {labels["owner"] for labels, _ in team_kpis}
    assert len(owners - {NONE_LABEL, OTHER_LABEL}) == MAX_OWNERS
    assert {labels["category"] for labels, _ in team_kpis} <= {*KPI_CATEGORIES, OTHER_LABEL}
    assert sum(value for _, value in team_kpis) == 2 * TEAMS
    assert sum(value for labels, value in team_kpis if labels["owner"] == OTHER_LABEL) == 2 * (
        TEAMS - MAX_OWNERS
    )
    assert dict(
        ((labels["category"], labels["status"]), value)
        for labels, value in team_kpis
        if labels["owner"] == "team:default/team-000" and value
    ) == {("speed-to-market", "declared"): 1, ("customer-satisfaction", "unknown"): 1}
    assert sum(value for _, value in found["catalog_kpis"]) == 2 * TEAMS
