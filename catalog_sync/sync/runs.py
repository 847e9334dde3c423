"""The record of each pass (``sync_runs``) and what runs after one (scoring, metrics).

A pass is recorded when it starts, so one that dies shows as never finished; the worker loop's idle
polls (nothing was due) are forgotten rather than recorded, so the real passes stay visible.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from catalog_sync.errors import StoreError
from catalog_sync.store.sync_store import SyncStore
from catalog_sync.sync.summary import Clock, PassSummary

log = logging.getLogger(__name__)

Hook = Callable[[PassSummary], None]
"""Runs after each pass with its summary: the scorer, the pass counters."""


class RunRecorder:
    """Records one worker's passes."""

    def __init__(self, store: SyncStore, worker_id: str, clock: Clock) -> None:
        self._store = store
        self._worker_id = worker_id
        self._clock = clock

    def start(self, summary: PassSummary, started: datetime) -> None:
        """Record that a pass began."""
        summary.run_id = self._store.start_run(self._worker_id, started)

    def finish(self, summary: PassSummary, t0: float, message: str | None = None) -> None:
        """Record a pass's end (``t0`` from ``time.perf_counter`` at its start); a database that fails
        now costs the record, not the pass. The message is stored redacted by the store."""
        summary.duration_seconds = round(time.perf_counter() - t0, 3)
        if not summary.run_id:
            return
        try:
            self._store.finish_run(
                summary.run_id,
                now=self._clock(),
                result=summary.result,
                counts=summary.to_dict(),
                duration=summary.duration_seconds,
                message=message,
            )
        except StoreError:
            log.warning("could not record the end of sync run %s", summary.run_id)

    def forget(self, summary: PassSummary) -> None:
        """Forget an idle poll: recording it would bury the real passes and count a run every few seconds."""
        self._store.forget_run(summary.run_id)
        summary.run_id = 0


def run_hooks(hooks: Sequence[Hook], summary: PassSummary) -> None:
    """Run what follows a pass (scoring, metrics); a failing hook is logged, never fatal."""
    for hook in hooks:
        try:
            hook(summary)
        except Exception:  # a scoring bug must not stop the catalog from syncing
            log.exception("a hook after sync run %s failed", summary.run_id)
