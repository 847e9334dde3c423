"""The worker loop: a pass over what is due, then a wait that a wake-up cuts short.

It outlives any one failed pass (a database outage, a bug): the error is logged and the next pass
comes after the wait, which is how ``catalog-sync worker`` and ``serve`` survive a restarted database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from catalog_sync.errors import StoreError
from catalog_sync.sync.wakeup import Wakeup

log = logging.getLogger(__name__)


def run_forever(
    run_pass: Callable[[], object],
    stop: threading.Event,
    *,
    poll_seconds: float = 5.0,
    wakeup: Wakeup | None = None,
) -> None:
    """Run passes until ``stop`` is set; between passes wait ``poll_seconds`` or until woken.

    Whoever sets ``stop`` also notifies ``wakeup``, so a stop is not delayed by the wait.
    """
    while not stop.is_set():
        try:
            run_pass()
        except StoreError as exc:
            log.error("sync pass failed: %s", exc)
        except Exception:  # the loop outlives any one bad pass; the error is logged in full
            log.exception("sync pass failed unexpectedly")
        if wakeup is None:
            stop.wait(poll_seconds)
        else:
            wakeup.wait(poll_seconds)
