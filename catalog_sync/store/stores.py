"""The store's protocols bundled for the HTTP app, and the one place that builds them on a database.

``plugin_api.create_app`` receives a ``Stores``, never an engine: each field is the protocol of one
consumer, so a view can only do what its protocol offers. ``open_stores`` is called by the composition
root (``catalog_sync.cli``) and by tests that build the app the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from catalog_sync.store.admin_store import Administration, SqlAdministration
from catalog_sync.store.base import Database, Transaction
from catalog_sync.store.catalog_store import CatalogReads, SqlCatalogReads
from catalog_sync.store.kpis import KpiPushes, KpiReads, SqlKpiStore
from catalog_sync.store.metrics_store import MetricsReads, SqlMetricsReads
from catalog_sync.store.outbox import OutboxReads, Route, SqlOutbox
from catalog_sync.store.scoring import ScoringReads, SqlScoringReads
from catalog_sync.store.webhook_store import SqlWebhookIntake, WebhookIntake


class ReadUnits(Protocol):
    """What the HTTP edge needs of the database itself: one read unit per request, and readiness."""

    def open_reading(self) -> Transaction:
        """A read unit whose end the caller decides; end it with ``close``."""
        ...

    def close(self, tx: Transaction) -> None:
        """End a unit opened with ``open_reading``."""
        ...

    def check_ready(self) -> None:
        """Raise ``StoreError`` unless the database answers now (``/readyz``)."""
        ...


@dataclass(frozen=True)
class Stores:
    """One typed field per consumer's protocol, all over the same database."""

    units: ReadUnits
    catalog: CatalogReads
    administration: Administration
    metrics: MetricsReads
    scoring: ScoringReads
    kpis: KpiReads
    kpi_pushes: KpiPushes
    webhooks: WebhookIntake
    outbox: OutboxReads


def open_stores(
    database: Database,
    *,
    facet_cache_seconds: float = 0.0,
    max_filter_conditions: int | None = None,
    routes: Sequence[Route] = (),
) -> Stores:
    """The SQLAlchemy implementation of every protocol, on one database.

    ``facet_cache_seconds`` is ``api.facet_cache_seconds``: how long a facet answer may be reused;
    ``max_filter_conditions`` is ``api.max_filter_conditions``, which a by-query cursor's filter obeys;
    ``routes`` are the notification channels, so a pushed KPI value that misses its target is announced.
    """
    kpis = SqlKpiStore(database, routes=routes)
    return Stores(
        units=database,
        catalog=SqlCatalogReads(
            database, facet_cache_seconds=facet_cache_seconds, max_filter_conditions=max_filter_conditions
        ),
        administration=SqlAdministration(database),
        metrics=SqlMetricsReads(database),
        scoring=SqlScoringReads(database),
        kpis=kpis,
        kpi_pushes=kpis,
        webhooks=SqlWebhookIntake(database),
        outbox=SqlOutbox(database),
    )
