"""The delivery loop: a thread beside the sync loop that sends what the outbox holds.

It runs in ``worker`` and under ``serve``; any number of processes may run it, the outbox's claims
keep them from sending one row together. It sends batch after batch while rows are due, then waits
``poll_seconds`` (or until woken, as after a re-score wrote events). A failed round (the database
down) is logged and retried; it never stops the thread.
"""

from __future__ import annotations

import logging
import threading

from catalog_sync.errors import CatalogSyncError
from catalog_sync.notify.deliver import Deliverer

log = logging.getLogger(__name__)


class DeliveryLoop:
    """Runs ``deliverer`` until ``stop``."""

    def __init__(self, deliverer: Deliverer) -> None:
        self.deliverer = deliverer
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread; what is due is sent at once."""
        self._thread = threading.Thread(target=self._loop, name="notify-loop", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for due deliveries now (events were just written)."""
        self._wake.set()

    def _loop(self) -> None:
        poll = self.deliverer.settings.poll_seconds
        while not self._stop.is_set():
            tried = 0
            try:
                tried = self.deliverer.run_once()
            except CatalogSyncError as exc:
                log.warning("delivering notifications failed, retried in %g s: %s", poll, exc)
            except Exception:
                log.exception("delivering notifications failed")
            if tried:
                continue
            self._wake.wait(poll)
            self._wake.clear()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the batch in progress."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.deliverer.close()
