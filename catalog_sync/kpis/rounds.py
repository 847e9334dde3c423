"""One measuring round: every measured KPI valued once, the results stored, removed KPIs forgotten.

Prometheus queries run ``kpis.concurrency`` at a time, each bounded by ``kpis.timeout_seconds``, so a
round over 10,000 KPIs is bounded by their number over the concurrency, and one slow query delays only
its own thread. ``git`` measures read stored facts (no git is run); ``push`` KPIs are not measured
(their values arrive through the API), but they count as declared so they are never pruned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from catalog_sync.config import KpiSettings
from catalog_sync.descriptors.kpis import DEFAULT_WINDOW, measure_kind, substitute_window, window_seconds
from catalog_sync.errors import CatalogSyncError, MeasureError
from catalog_sync.kpis.gitmeasures import measure_git
from catalog_sync.kpis.prometheus import PrometheusClient
from catalog_sync.store.kpis import DeclaredKpi, KpiMeasuring, Measurement

log = logging.getLogger(__name__)
NO_PROMETHEUS = "kpis.prometheus_url is not set: prometheus measures need it"


@dataclass
class RoundSummary:
    """What a round did, for its log line and the tests."""

    measured: int = 0
    unknown: int = 0
    forgotten: int = 0
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)


class Measurer:
    """Measures every declared KPI; built once per process by the composition root."""

    def __init__(
        self,
        settings: KpiSettings,
        store: KpiMeasuring,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self._client = (
            PrometheusClient(settings.prometheus_url, settings.timeout_seconds, settings.concurrency)
            if settings.prometheus_url
            else None
        )

    def run_round(self) -> RoundSummary:
        """Measure everything now (whatever the schedule), store it, and say what happened."""
        started = time.monotonic()
        now = self.clock()
        declared = self.store.declared()
        measured = [d for d in declared if measure_kind(d.kpi) in ("prometheus", "git")]
        with ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="kpi") as pool:
            results = list(pool.map(lambda d: self._measure(d, now), measured))
        forgotten = self.store.write(results, {(d.entity_ref, d.kpi_id) for d in declared}, self.clock())
        summary = RoundSummary(measured=len(results), forgotten=forgotten)
        for result in results:
            if result.error is not None:
                summary.unknown += 1
                summary.reasons[result.error] = summary.reasons.get(result.error, 0) + 1
        summary.seconds = time.monotonic() - started
        return summary

    def _measure(self, declared: DeclaredKpi, now: datetime) -> Measurement:
        kpi = declared.kpi
        kind = measure_kind(kpi)
        window = str(kpi.get("window") or DEFAULT_WINDOW)
        try:
            if kind == "prometheus":
                if self._client is None:
                    raise MeasureError(NO_PROMETHEUS)
                value = self._client.query(substitute_window(str(kpi["measure"]["prometheus"]), window))
            else:
                span = timedelta(seconds=window_seconds(window))
                value = measure_git(str(kpi["measure"]["git"]), declared.facts, span, now)
        except CatalogSyncError as exc:
            return Measurement(declared.entity_ref, declared.kpi_id, kind, None, str(exc), now)
        except Exception as exc:  # a bug measuring one KPI must not stop the round
            log.exception("measuring KPI %s of %s failed", declared.kpi_id, declared.entity_ref)
            return Measurement(
                declared.entity_ref, declared.kpi_id, kind, None, f"internal error: {exc}", now
            )
        return Measurement(declared.entity_ref, declared.kpi_id, kind, value, None, now)

    def close(self) -> None:
        """Close Prometheus's pooled connections."""
        if self._client is not None:
            self._client.close()
