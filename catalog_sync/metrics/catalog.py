"""Catalog state, read from the database each time Prometheus scrapes.

No label names a single entity (``source`` names a configured source, which is configuration), and
every label value that descriptors choose is one of a fixed set or ``other`` (``metric_labels``), so
the series count stays bounded however large the catalog grows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from catalog_sync.descriptors.kinds_ours import SEVERITIES as DEBT_SEVERITIES
from catalog_sync.errors import StoreError
from catalog_sync.metric_labels import (
    NONE_LABEL,
    choose_owners,
    choose_scorecards,
    fold_averages,
    kind_label,
    known_label,
    kpi_counts,
    kpi_ratios,
    lifecycle_label,
    sum_by,
    team_kpi_counts,
    tier_label,
)
from catalog_sync.scoring.gaps import GAP_TYPES
from catalog_sync.store.base import Transaction
from catalog_sync.store.metrics_store import MetricsReads

log = logging.getLogger("catalog_sync.metrics")
"""The package's logger, shared by its modules, so operators filter its lines by one name."""

REPOSITORY_STATES = ("ok", "failing", "stale", "pending")


@dataclass
class CatalogState:
    """Every catalog-state number one scrape reports, read in one go."""

    entities: list[tuple[str, str, int]] = field(default_factory=list)
    gaps: list[tuple[str, str, int]] = field(default_factory=list)
    scorecard_levels: list[tuple[str, str, int]] = field(default_factory=list)
    score_averages: list[tuple[str, str, float]] = field(default_factory=list)
    repositories: dict[str, int] = field(default_factory=dict)
    descriptor_errors: int = 0
    conflicts: int = 0
    last_success: float = 0.0
    kpis: list[tuple[str, str, int]] = field(default_factory=list)
    kpi_ratios: list[tuple[str, str, str, str, float]] = field(default_factory=list)
    team_kpis: list[tuple[str, str, str, int]] = field(default_factory=list)
    exemptions: list[tuple[str, int]] = field(default_factory=list)
    tech_debt: dict[str, int] = field(default_factory=dict)
    source_listings: list[tuple[str, int]] = field(default_factory=list)


def read_catalog_state(reads: MetricsReads, tx: Transaction, sources: Sequence[str] = ()) -> CatalogState:
    """Run the aggregate queries of one scrape (each reads an index, none reads entity bodies), every
    label value bounded by ``metric_labels``; ``sources`` are the configured sources' names, the only
    values of ``catalog_source_listing_ok``'s label."""
    state = CatalogState()
    state.entities = _flat(
        sum_by(((kind_label(k), lifecycle_label(lc)), n) for k, lc, n in reads.entity_counts(tx))
    )
    state.repositories = {name: 0 for name in REPOSITORY_STATES} | reads.repository_counts(tx)
    state.descriptor_errors = reads.problem_count(tx, "descriptor", "error")
    state.conflicts = reads.problem_count(tx, "conflict", None)
    finished = reads.last_success(tx)
    state.last_success = float(finished.timestamp()) if finished is not None else 0.0
    state.gaps = _flat(
        sum_by(((known_label(gap, GAP_TYPES), tier_label(tier)), n) for gap, tier, n in reads.gap_counts(tx))
    )
    cards = choose_scorecards(reads.scorecard_definitions(tx))
    state.scorecard_levels = _flat(
        sum_by(
            ((cards.scorecard(card), cards.level(card, level)), n)
            for card, level, n in reads.scorecard_level_counts(tx)
        )
    )
    totals = reads.score_totals_by_owner(tx)
    state.score_averages = fold_averages(totals, cards, choose_owners(totals))
    items = reads.kpi_items(tx)
    state.kpis = kpi_counts(items)
    state.kpi_ratios = kpi_ratios(items)
    state.team_kpis = team_kpi_counts(items)
    state.exemptions = sum_by((cards.scorecard(card), n) for card, n in reads.active_exemptions(tx))
    state.tech_debt = reads.tech_debt_counts(tx)
    state.source_listings = listing_ok(sources, reads.source_listings(tx))
    return state


def listing_ok(sources: Sequence[str], clean: dict[str, bool]) -> list[tuple[str, int]]:
    """1 for each configured source whose last listing was clean, 0 for one that failed, was incomplete,
    refused a removal or was never listed.

    Only configured sources are named: their names are configuration, so the series are bounded, and a
    source taken out of the configuration stops being reported (its row stays in the catalog with its
    last error, which would otherwise alert forever). The ``registered`` source (the API's
    registrations) is never configured: it is read from the catalog's own table and records no
    listing, so it would always read 0; its repositories' failures are counted by
    ``catalog_repositories``.
    """
    return [(name, 1 if clean.get(name, False) else 0) for name in sorted(set(sources))]


def _flat(rows: list[tuple[tuple[str, str], int]]) -> list[tuple[str, str, int]]:
    return [(first, second, count) for (first, second), count in rows]


class CatalogCollector(Collector):
    """Reads the catalog's state from the database on every scrape.

    A database that does not answer makes the catalog-state series disappear from that scrape (and the
    failure is logged) while the process's own counters are still served: ``CatalogMetricsMissing``
    alerts on the absence.
    """

    def __init__(self, reads: MetricsReads, sources: Sequence[str] = ()) -> None:
        self._reads = reads
        self._sources = tuple(sources)

    def collect(self) -> Iterator[Metric]:
        """One scrape: read everything, then describe it."""
        try:
            with self._reads.reading() as tx:
                state = read_catalog_state(self._reads, tx, self._sources)
        except StoreError as exc:
            log.warning("catalog metrics not collected: the database failed: %s", str(exc).splitlines()[0])
            return
        yield from describe_state(state)


def describe_state(state: CatalogState) -> Iterator[Metric]:
    """The metric families of one ``CatalogState``, as SPEC section 7 names them."""
    yield _gauge(
        "catalog_entities",
        "Entities in the catalog by kind and lifecycle.",
        ["kind", "lifecycle"],
        state.entities,
    )
    gaps: dict[tuple[str, str], int] = {(gap, NONE_LABEL): 0 for gap in GAP_TYPES}
    for gap, tier, count in state.gaps:
        gaps[(gap, tier)] = gaps.get((gap, tier), 0) + count
    yield _gauge(
        "catalog_ownership_gaps",
        "Ownership gaps by type and by the business tier of the entity (none when unset).",
        ["type", "tier"],
        [(gap, tier, count) for (gap, tier), count in sorted(gaps.items())],
    )
    yield _gauge(
        "catalog_scorecard_entities",
        "Entities at each level of each scorecard (none below the first level).",
        ["scorecard", "level"],
        state.scorecard_levels,
    )
    yield _gauge(
        "catalog_scorecard_score_average",
        "Average score (0-100) of each owner's entities on each scorecard.",
        ["scorecard", "owner"],
        state.score_averages,
    )
    yield _gauge(
        "catalog_kpis",
        "KPIs by category and status (met, missed, unknown, declared).",
        ["category", "status"],
        state.kpis,
    )
    yield _gauge(
        "catalog_team_kpis",
        "KPIs of each owning team's products by category and status (the 100 teams with the most "
        "KPIs are named, the rest added up as other; none: products without a team).",
        ["owner", "category", "status"],
        state.team_kpis,
    )
    yield _gauge(
        "catalog_kpi_ratio",
        "A KPI's last value over its target, for tier-1 and tier-2 products (entity ref, KPI id; the "
        "product's tier and the KPI's direction: at-least is missed below 1, at-most above 1).",
        ["entity", "kpi", "tier", "direction"],
        state.kpi_ratios,
    )
    yield _gauge(
        "catalog_exemptions_active",
        "Checks passed only because an exemption in the entity's descriptor still holds, per scorecard.",
        ["scorecard"],
        state.exemptions,
    )
    yield _gauge(
        "catalog_tech_debt_items",
        "Items of spec.techDebt of live entities by severity (low, medium, high, critical).",
        ["severity"],
        [(severity, state.tech_debt.get(severity, 0)) for severity in DEBT_SEVERITIES],
    )
    yield _gauge(
        "catalog_source_listing_ok",
        "1 when the configured source's last listing was complete and clean, 0 when it failed, was "
        "incomplete, refused a removal or has not happened yet (the reason: GET /api/sources).",
        ["source"],
        state.source_listings,
    )
    yield _gauge(
        "catalog_repositories",
        "Repositories by sync state (ok, failing, stale, pending).",
        ["state"],
        sorted(state.repositories.items()),
    )
    for name, documentation, value in (
        (
            "catalog_descriptor_errors",
            "Descriptor errors (invalid descriptor files) in the catalog now.",
            state.descriptor_errors,
        ),
        (
            "catalog_entity_conflicts",
            "Entities claimed by more than one repository now (the later claims are refused).",
            state.conflicts,
        ),
        (
            "catalog_sync_last_success_timestamp_seconds",
            "When the last successful sync pass of any worker finished (Unix time; 0 when none has).",
            state.last_success,
        ),
    ):
        yield GaugeMetricFamily(name, documentation, value=value)


def _gauge(
    name: str, documentation: str, labels: list[str], rows: Iterable[tuple[Any, ...]]
) -> GaugeMetricFamily:
    """A labelled gauge from rows of label values followed by the number."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for *label_values, number in rows:
        family.add_metric([str(value) for value in label_values], number)
    return family
