"""Prometheus metrics: catalog state read from the database at scrape time, counters for sync events.

Two kinds of numbers, kept apart on purpose:

- **Catalog state** (entities, ownership gaps, scorecard levels, repositories, problems, whether each
  configured source's last listing was clean, the last successful pass) is computed by
  ``CatalogCollector`` with a handful of aggregate queries each time Prometheus scrapes. Every
  replica reads the same database, so every replica reports the same numbers, and they survive
  restarts. No label names a single entity, and every label value that descriptors choose
  (lifecycle, scorecard, level, owning team) is one of a fixed set or ``other`` (``metric_labels``),
  so the series count stays bounded however large, or hostile, the catalog grows. Because replicas
  agree, dashboards and alerts take ``max`` over them, never ``sum``.
- **Events** (sync passes, repositories synced, pass durations, HTTP requests) are counters and
  histograms of the process that saw them. With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn with several
  workers) prometheus-client writes them to files in that folder and ``build_registry`` answers a
  scrape with the sum over every worker. The variable must be set before the process starts (the
  client chooses its storage when it is first imported) and the folder should be empty at start.

The parts:

- ``catalog``: ``CatalogCollector``, the catalog-state gauges read at scrape time (``CatalogState``,
  ``read_catalog_state``, ``describe_state``); their label values are bounded by ``metric_labels``;
- ``events``: the counters and histograms of this process (``SyncEventMetrics``,
  ``NotificationMetrics``) in ``EVENT_REGISTRY``, each set made once per process (``PerProcess``),
  and the hooks that count into them (``record_pass``, ``count_delivery``, ``record_notification``);
- ``serving``: ``build_registry``, which joins the two for a ``/metrics`` answer in single-process
  and multiprocess mode, and ``start_metrics_server`` for processes without an HTTP API.

This package never imports Flask: the HTTP side (``plugin_api.metrics``) registers its own counters
into ``EVENT_REGISTRY`` and serves ``build_registry``'s output.
"""

from __future__ import annotations

from catalog_sync.metrics.catalog import (
    REPOSITORY_STATES,
    CatalogCollector,
    CatalogState,
    describe_state,
    read_catalog_state,
)
from catalog_sync.metrics.events import (
    EVENT_REGISTRY,
    MAX_SCM_SOURCES,
    NOTIFICATION_RESULTS,
    REPOSITORY_SYNC_RESULTS,
    SCM_STATUSES,
    SYNC_DURATION_BUCKETS,
    SYNC_RESULTS,
    WEBHOOK_RESULTS,
    WEBHOOK_VISIBLE_BUCKETS,
    NotificationMetrics,
    PerProcess,
    SyncEventMetrics,
    count_delivery,
    notification_metrics,
    prepare_deliveries,
    prepare_notifications,
    record_notification,
    record_pass,
    sync_event_metrics,
)
from catalog_sync.metrics.serving import MULTIPROC_ENV, build_registry, multiprocess_dir, start_metrics_server

__all__ = [
    "EVENT_REGISTRY",
    "MAX_SCM_SOURCES",
    "MULTIPROC_ENV",
    "NOTIFICATION_RESULTS",
    "REPOSITORY_STATES",
    "REPOSITORY_SYNC_RESULTS",
    "SCM_STATUSES",
    "SYNC_DURATION_BUCKETS",
    "SYNC_RESULTS",
    "WEBHOOK_RESULTS",
    "WEBHOOK_VISIBLE_BUCKETS",
    "CatalogCollector",
    "CatalogState",
    "NotificationMetrics",
    "PerProcess",
    "SyncEventMetrics",
    "build_registry",
    "count_delivery",
    "describe_state",
    "multiprocess_dir",
    "notification_metrics",
    "prepare_deliveries",
    "prepare_notifications",
    "read_catalog_state",
    "record_notification",
    "record_pass",
    "start_metrics_server",
    "sync_event_metrics",
]
