"""Wake-ups: cutting the worker loop's wait short when a repository was made due.

``POST /api/sync``, a refresh or a push webhook under ``serve`` makes repositories due in the store,
then calls ``notify``; the loop waits on ``wait`` between passes, so it reads them at once instead of
at the next poll. ``InProcessWakeup`` serves one process; across processes, a ``worker`` on PostgreSQL
waits on ``store.pg_wakeup.PostgresWakeup`` (``LISTEN``), which the webhook's own transaction
notifies, behind the same protocol.
"""

from __future__ import annotations

import threading
from typing import Protocol


class Wakeup(Protocol):
    """A signal that work became due, shared by whoever makes it due and the loop that does it."""

    def notify(self) -> None:
        """Wake the loop now (or as soon as it next waits)."""
        ...

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True when woken, False when the time ran out."""
        ...


class InProcessWakeup:
    """A wake-up within one process (``serve``: the API and the loop share it), over ``threading.Event``."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        """Wake the loop."""
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Wait for a notification; each one wakes one wait."""
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken
