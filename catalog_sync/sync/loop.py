"""The worker loop: a pass over what is due, then a wait that a wake-up cuts short.

A wake-up seldom comes alone: a push to many repositories, or a burst of webhook deliveries, wakes the
loop once per delivery. Each pass costs the same small amount whether it reads one repository or fifty,
and its CPU is taken from the API answering the rest of the burst; so after a wake-up the loop waits
for the burst to end (no wake-up for ``SETTLE_SECONDS``, at most ``SETTLE_LIMIT_SECONDS``) and reads
what it made due in one pass. A lone push pays ``SETTLE_SECONDS`` (against a one-second target).

It outlives any one failed pass (a database outage, a bug): the error is logged and the next pass
comes after the wait, which is how ``catalog-sync worker`` and ``serve`` survive a restarted database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from catalog_sync.errors import StoreError
from catalog_sync.sync.wakeup import Wakeup

log = logging.getLogger(__name__)

SETTLE_SECONDS = 0.05
"""A burst has ended when no wake-up came for this long."""
SETTLE_LIMIT_SECONDS = 0.25
"""The longest a pass waits for a burst to end: a steady stream of pushes is still read promptly."""


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
        elif wakeup.wait(poll_seconds):
            settle(wakeup, stop)


def settle(
    wakeup: Wakeup,
    stop: threading.Event,
    *,
    quiet_seconds: float = SETTLE_SECONDS,
    limit_seconds: float = SETTLE_LIMIT_SECONDS,
) -> None:
    """Wait until wake-ups stop coming for ``quiet_seconds`` (at most ``limit_seconds``), or ``stop``."""
    deadline = time.monotonic() + limit_seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0 or not wakeup.wait(min(quiet_seconds, left)):
            return
