"""Event metrics: counters and histograms of what this process saw (sync passes, hosting-API requests,
webhook deliveries, notification tries).

Each metric may be created once per process, so each set is created on first use and kept; the HTTP
side registers its own counters into ``EVENT_REGISTRY`` beside these.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

from catalog_sync.sources.hostapi import set_request_listener

if TYPE_CHECKING:
    from catalog_sync.sync import PassSummary

MetricSet = TypeVar("MetricSet")
"""A set of event metrics made in one registry (``SyncEventMetrics``, ``NotificationMetrics``...)."""

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
        self.scm_reset = Gauge(
            "catalog_scm_rate_limit_reset_timestamp_seconds",
            "When the hosting API's rate-limit window resets (Unix time, the host's clock), as its last "
            "answer said, by source: the remaining budget says nothing once this has passed.",
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
        self.webhook_newcomer_visible = Histogram(
            "catalog_webhook_newcomer_visible_seconds",
            "Seconds from the arrival of a delivery that had a source list at once (the first push to, "
            "or the creation or transfer of, a repository no listing held) to the write of the "
            "repository's first read.",
            buckets=WEBHOOK_VISIBLE_BUCKETS,
            registry=registry,
        )
        for result in SYNC_RESULTS:
            self.runs.labels(result=result)
        for result in REPOSITORY_SYNC_RESULTS:
            self.repository_syncs.labels(result=result)
        set_request_listener(self.count_scm_request)

    def count_scm_request(
        self, source: str, status: str, remaining: int | None, reset_at: float | None = None
    ) -> None:
        """One hosting-API request: counted by its status (folded to a fixed set), the budget left and
        when the window resets."""
        if source not in self._scm_sources and len(self._scm_sources) >= MAX_SCM_SOURCES:
            source = "other"
        else:
            self._scm_sources.add(source)
        label = status if status in SCM_STATUSES else ("5xx" if status.startswith("5") else "other")
        self.scm_requests.labels(source=source, status=label).inc()
        if remaining is not None:
            self.scm_remaining.labels(source=source).set(remaining)
        if reset_at is not None:
            self.scm_reset.labels(source=source).set(reset_at)


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


class PerProcess(Generic[MetricSet]):
    """A set of event metrics made on first use and kept: a metric may be created only once in a
    registry, and threads of one process may ask for the set at the same moment."""

    def __init__(self, build: Callable[[CollectorRegistry], MetricSet]) -> None:
        self._build = build
        self._made: MetricSet | None = None
        self._lock = threading.Lock()

    def get(self) -> MetricSet:
        """The set, made in ``EVENT_REGISTRY`` (without ``_created`` series) the first time."""
        with self._lock:
            if self._made is None:
                disable_created_metrics()  # type: ignore[no-untyped-call]
                self._made = self._build(EVENT_REGISTRY)
            return self._made


_events = PerProcess(SyncEventMetrics)
_notifications = PerProcess(NotificationMetrics)


def sync_event_metrics() -> SyncEventMetrics:
    """The process's sync counters, created on first use (each metric may be created once per process)."""
    return _events.get()


def notification_metrics() -> NotificationMetrics:
    """The process's notification counter, created on first use."""
    return _notifications.get()


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
    for seconds in summary.newcomer_visible_seconds:
        metrics.webhook_newcomer_visible.observe(seconds)


def prepare_deliveries(provider: str, events: Iterable[str]) -> None:
    """Show a webhook provider's series at zero from the start (each event label, each result), so a
    rate or an increase over them counts the first delivery too: ``CatalogWebhookDeliveriesRefused``
    would miss the first refused delivery of a process whose series it created."""
    counter = sync_event_metrics().webhook_deliveries
    for event in events:
        for result in WEBHOOK_RESULTS:
            counter.labels(provider=provider, event=event, result=result)


def count_delivery(provider: str, event: str, result: str) -> None:
    """Count one answered webhook delivery; the caller bounds ``event`` to the names it knows."""
    sync_event_metrics().webhook_deliveries.labels(provider=provider, event=event, result=result).inc()
