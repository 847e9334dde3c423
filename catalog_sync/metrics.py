"""Prometheus metrics: catalog state read from the database at scrape time, counters for sync events.

Two kinds of numbers, kept apart on purpose:

- **Catalog state** (entities, ownership gaps, scorecard levels, repositories, problems, the last
  successful pass) is computed by ``CatalogCollector`` with a handful of aggregate queries each time
  Prometheus scrapes. Every replica reads the same database, so every replica reports the same numbers,
  and they survive restarts. No label names a single entity, and every label value that descriptors
  choose (lifecycle, scorecard, level, owning team) is one of a fixed set or ``other``
  (``metric_labels``), so the series count stays bounded however large, or hostile, the catalog
  grows. Because replicas agree, dashboards and alerts take ``max`` over them, never ``sum``.
- **Events** (sync passes, repositories synced, pass durations, HTTP requests) are counters and
  histograms of the process that saw them. With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn with several
  workers) prometheus-client writes them to files in that folder and ``build_registry`` answers a
  scrape with the sum over every worker. The variable must be set before the process starts (the
  client chooses its storage when it is first imported) and the folder should be empty at start.

This module never imports Flask: the HTTP side (``plugin_api.metrics``) registers its own counters into
``EVENT_REGISTRY`` and serves ``build_registry``'s output.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    start_http_server,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
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
from catalog_sync.sources.hostapi import set_request_listener
from catalog_sync.store.base import Transaction
from catalog_sync.store.metrics_store import MetricsReads

if TYPE_CHECKING:
    from catalog_sync.sync import PassSummary

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""The environment variable that switches counters and histograms to prometheus-client's multiprocess
mode: a writable folder shared by every worker process of one server (gunicorn's)."""

REPOSITORY_STATES = ("ok", "failing", "stale", "pending")
SYNC_RESULTS = ("ok", "failed")
REPOSITORY_SYNC_RESULTS = ("changed", "unchanged", "error")
SYNC_DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
"""A pass takes from a fraction of a second (nothing moved) to many minutes (a first full sync)."""
SCM_STATUSES = ("200", "201", "304", "401", "403", "404", "429", "5xx", "other", "error")
"""Label values of ``catalog_scm_requests_total``'s status: the answers that mean something different to
an operator, the rest folded (``5xx``, ``other``); ``error`` is a request that got no answer."""
MAX_SCM_SOURCES = 100
"""Sources named in the hosting-API metrics; they come from the configuration, so this is a backstop."""

WEBHOOK_RESULTS = ("accepted", "ignored", "duplicate", "unauthorized", "invalid")
WEBHOOK_VISIBLE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
"""Push to visible: well under a second when a worker is woken, the poll interval when it is not."""

EVENT_REGISTRY = CollectorRegistry(auto_describe=True)
"""The process-wide registry of event metrics (sync and HTTP); exposed as it is in single-process mode,
through the multiprocess files otherwise."""


class SyncEventMetrics:
    """The counters and histogram of sync passes, one set per process."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter(
            "catalog_sync_runs",
            "Sync passes finished by this process, by result (ok, failed).",
            ["result"],
            registry=registry,
        )
        self.repository_syncs = Counter(
            "catalog_repository_syncs",
            "Repositories synced by this process, by result (changed, unchanged, error).",
            ["result"],
            registry=registry,
        )
        self.duration = Histogram(
            "catalog_sync_duration_seconds",
            "Wall time of one sync pass.",
            buckets=SYNC_DURATION_BUCKETS,
            registry=registry,
        )
        self.scm_requests = Counter(
            "catalog_scm_requests",
            "Requests sent to hosting APIs (GitHub, GitLab) by this process, by source and answer status.",
            ["source", "status"],
            registry=registry,
        )
        self.scm_remaining = Gauge(
            "catalog_scm_rate_limit_remaining",
            "Requests left in the hosting API's rate-limit window, as its last answer said, by source.",
            ["source"],
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self._scm_sources: set[str] = set()
        self.webhook_deliveries = Counter(
            "catalog_webhook_deliveries",
            "Webhook deliveries answered by this process, by provider (github, gitlab), event (a known "
            "name, else other) and result (accepted, ignored, duplicate, unauthorized, invalid).",
            ["provider", "event", "result"],
            registry=registry,
        )
        self.webhook_visible = Histogram(
            "catalog_webhook_visible_seconds",
            "Seconds from a push delivery's arrival to the write that made the pushed commit visible.",
            buckets=WEBHOOK_VISIBLE_BUCKETS,
            registry=registry,
        )
        for result in SYNC_RESULTS:
            self.runs.labels(result=result)
        for result in REPOSITORY_SYNC_RESULTS:
            self.repository_syncs.labels(result=result)
        set_request_listener(self.count_scm_request)

    def count_scm_request(self, source: str, status: str, remaining: int | None) -> None:
        """One hosting-API request: counted by its status (folded to a fixed set) and the budget left."""
        if source not in self._scm_sources and len(self._scm_sources) >= MAX_SCM_SOURCES:
            source = "other"
        else:
            self._scm_sources.add(source)
        label = status if status in SCM_STATUSES else ("5xx" if status.startswith("5") else "other")
        self.scm_requests.labels(source=source, status=label).inc()
        if remaining is not None:
            self.scm_remaining.labels(source=source).set(remaining)


NOTIFICATION_RESULTS = ("delivered", "retried", "failed")


class NotificationMetrics:
    """The counter of delivery tries, one per process that delivers (``worker``, ``serve``).

    Its labels are bounded: channels are the configuration's (at most 20), events and results fixed sets.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.tries = Counter(
            "catalog_notifications",
            "Notification delivery tries by channel, event and result (delivered, retried, failed).",
            ["channel", "event", "result"],
            registry=registry,
        )


_lock = threading.Lock()
_events: SyncEventMetrics | None = None
_notifications: NotificationMetrics | None = None
_process_collector: ProcessCollector | None = None


def sync_event_metrics() -> SyncEventMetrics:
    """The process's sync counters, created on first use (each metric may be created once per process)."""
    global _events
    with _lock:
        if _events is None:
            disable_created_metrics()  # type: ignore[no-untyped-call]
            _events = SyncEventMetrics(EVENT_REGISTRY)
        return _events


def notification_metrics() -> NotificationMetrics:
    """The process's notification counter, created on first use."""
    global _notifications
    with _lock:
        if _notifications is None:
            disable_created_metrics()  # type: ignore[no-untyped-call]
            _notifications = NotificationMetrics(EVENT_REGISTRY)
        return _notifications


def prepare_notifications(channels: Iterable[str], events: Iterable[str]) -> None:
    """Show every configured channel's series at zero from the start, so a rate over them works."""
    counter = notification_metrics().tries
    for channel in channels:
        for event in events:
            for result in NOTIFICATION_RESULTS:
                counter.labels(channel=channel, event=event, result=result)


def record_notification(channel: str, event: str, result: str) -> None:
    """Count one delivery try: the ``record`` callback of ``notify.Deliverer``."""
    notification_metrics().tries.labels(channel=channel, event=event, result=result).inc()


def record_pass(summary: PassSummary) -> None:
    """Count one finished pass: the ``after_pass`` hook of ``SyncEngine``."""
    metrics = sync_event_metrics()
    metrics.runs.labels(result=summary.result).inc()
    for result, count in (
        ("changed", summary.changed),
        ("unchanged", summary.unchanged),
        ("error", summary.errors),
    ):
        if count > 0:
            metrics.repository_syncs.labels(result=result).inc(count)
    metrics.duration.observe(max(0.0, float(summary.duration_seconds)))
    for seconds in summary.push_visible_seconds:
        metrics.webhook_visible.observe(seconds)


def count_delivery(provider: str, event: str, result: str) -> None:
    """Count one answered webhook delivery; the caller bounds ``event`` to the names it knows."""
    sync_event_metrics().webhook_deliveries.labels(provider=provider, event=event, result=result).inc()


def multiprocess_dir(environ: Mapping[str, str] | None = None) -> str | None:
    """The multiprocess folder when multiprocess mode is on, else None."""
    env = os.environ if environ is None else environ
    return env.get(MULTIPROC_ENV) or env.get(MULTIPROC_ENV.lower()) or None


def build_registry(reads: MetricsReads, *, environ: Mapping[str, str] | None = None) -> CollectorRegistry:
    """The registry a ``/metrics`` answer is generated from: catalog state plus this server's events.

    In multiprocess mode the events are read from the files every worker writes, so whichever worker
    answers the scrape reports the whole server's counts; otherwise from this process's registry.
    """
    global _process_collector
    sync_event_metrics()
    registry = CollectorRegistry(auto_describe=False)
    folder = multiprocess_dir(environ)
    if folder:
        if values.ValueClass is values.MutexValue:
            log.warning(
                "%s is set but this process started without it: its counters are not written to %s "
                "and will be missing from /metrics (set the variable before the server starts)",
                MULTIPROC_ENV,
                folder,
            )
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    else:
        with _lock:
            if _process_collector is None:
                _process_collector = ProcessCollector(registry=EVENT_REGISTRY)
        registry.register(_RegistryCollector(EVENT_REGISTRY))
    registry.register(CatalogCollector(reads))
    return registry


def start_metrics_server(reads: MetricsReads, *, host: str, port: int) -> WSGIServer:
    """Serve ``/metrics`` from a process that has no HTTP API (``catalog-sync worker``).

    Sync passes run in the workers, so their pass counters and durations are only seen if the workers
    are scraped too. The server runs in a daemon thread; ``shutdown()`` stops it.
    """
    server, _thread = start_http_server(port, addr=host, registry=build_registry(reads))
    return server


class _RegistryCollector(Collector):
    """Exposes another registry's metrics through this one."""

    def __init__(self, source: CollectorRegistry) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        return self._source.collect()


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


def read_catalog_state(reads: MetricsReads, tx: Transaction) -> CatalogState:
    """Run the aggregate queries of one scrape (each reads an index, none reads entity bodies), every
    label value bounded by ``metric_labels``."""
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
    return state


def _flat(rows: list[tuple[tuple[str, str], int]]) -> list[tuple[str, str, int]]:
    return [(first, second, count) for (first, second), count in rows]


class CatalogCollector(Collector):
    """Reads the catalog's state from the database on every scrape.

    A database that does not answer makes the catalog-state series disappear from that scrape (and the
    failure is logged) while the process's own counters are still served: ``CatalogMetricsMissing``
    alerts on the absence.
    """

    def __init__(self, reads: MetricsReads) -> None:
        self._reads = reads

    def collect(self) -> Iterator[Metric]:
        """One scrape: read everything, then describe it."""
        try:
            with self._reads.reading() as tx:
                state = read_catalog_state(self._reads, tx)
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
