"""The measuring schedule: a thread that runs a round every ``kpis.interval_seconds``.

It runs beside the sync loop (in ``worker`` and under ``serve``) and never inside a sync pass, so a slow
Prometheus cannot delay the catalog. Several processes may run it: the store's claim lets one round
happen per interval whoever runs it. A failed round (the database down) is logged and retried at the
next interval; it never stops the thread.
"""

from __future__ import annotations

import logging
import threading

from catalog_sync.errors import CatalogSyncError
from catalog_sync.kpis.rounds import Measurer

log = logging.getLogger(__name__)


class MeasuringSchedule:
    """Runs ``measurer`` every interval in a daemon thread until ``stop``."""

    def __init__(self, measurer: Measurer) -> None:
        self.measurer = measurer
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread; the first round is claimed at once."""
        self._thread = threading.Thread(target=self._loop, name="kpi-schedule", daemon=True)
        self._thread.start()

    def run_once(self) -> bool:
        """Run a round when this process wins the interval's claim; True when it ran one."""
        interval = self.measurer.settings.interval_seconds
        if not self.measurer.store.claim_round(self.measurer.clock(), interval):
            return False
        summary = self.measurer.run_round()
        log.info(
            "KPIs measured: %d (%d unknown), %d forgotten, in %.1f s",
            summary.measured,
            summary.unknown,
            summary.forgotten,
            summary.seconds,
        )
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except CatalogSyncError as exc:
                log.warning(
                    "measuring KPIs failed, retried in %d s: %s", self.measurer.settings.interval_seconds, exc
                )
            except Exception:
                log.exception("measuring KPIs failed")
            self._stop.wait(self.measurer.settings.interval_seconds)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the round in progress, if any."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.measurer.close()
