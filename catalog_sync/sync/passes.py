"""A pass: discover, settle what did not move, claim the other due repositories batch by batch, read
and write them, expire orphans.

``SyncEngine`` only orchestrates: each step is a part of its own (``discovery``, ``unmoved``,
``claims``, ``batch``, ``writing``, ``expiry``, ``runs``), and the database is reached through one
``SyncStore``. Passes of one engine never overlap; passes of several engines (workers) share the fleet
through claims.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime

from catalog_sync.config import Settings
from catalog_sync.errors import SourceError, StoreError
from catalog_sync.sources.base import Source
from catalog_sync.store.sync_store import SyncStore
from catalog_sync.sync.batch import BatchReader
from catalog_sync.sync.claims import Claims
from catalog_sync.sync.discovery import Discovery, Listing
from catalog_sync.sync.expiry import expire_orphans
from catalog_sync.sync.isolation import ScanProcesses
from catalog_sync.sync.loop import run_forever
from catalog_sync.sync.runs import Hook, RunRecorder, process_space, run_hooks
from catalog_sync.sync.summary import Clock, PassSummary, Progress, utcnow
from catalog_sync.sync.tips import TipAsker
from catalog_sync.sync.unmoved import settle_unmoved
from catalog_sync.sync.wakeup import Wakeup
from catalog_sync.sync.workers import WorkerPools
from catalog_sync.sync.writing import GroupWriter

CLAIM_BATCH = 256
ONE_OFF_BATCHES = 8
"""A one-off pass claims this many batches at once: nobody else is waiting for the fleet."""


class SyncEngine:
    """Runs passes over the configured sources (and the registered repositories) against one store."""

    def __init__(
        self,
        settings: Settings,
        store: SyncStore,
        *,
        worker_id: str | None = None,
        sources: Sequence[Source] | None = None,
        clock: Clock = utcnow,
        after_pass: Sequence[Hook] = (),
        claim_batch: int = CLAIM_BATCH,
        isolated: bool = False,
    ) -> None:
        """``isolated``: every scan runs in a child process kept across passes (for a serving process)."""
        self.settings = settings
        self.store = store
        self.worker_id = worker_id or f"{process_space()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.after_pass = list(after_pass)
        self.claim_batch = claim_batch
        self.discovery = Discovery(settings, store, list(sources) if sources is not None else None, clock)
        self.claims = Claims(store, self.worker_id, clock, settings.sync.lease_seconds)
        self.runs = RunRecorder(store, self.worker_id, clock, settings.sync.lease_seconds)
        self._lock = threading.Lock()
        processes = min(settings.sync.concurrency, os.cpu_count() or 1)
        self._scans = ScanProcesses(processes) if isolated else None

    def close(self) -> None:
        """Stop the scanning processes of an isolated engine (nothing to do otherwise)."""
        if self._scans is not None:
            self._scans.close()

    def build_sources(self) -> list[Source | SourceError]:
        """The configured sources, built once; one that cannot be built is kept as its error."""
        return self.discovery.build_sources()

    def run_pass(self, *, everything: bool = True, progress: Progress | None = None) -> PassSummary:
        """One pass: every repository when ``everything``, else only those due; never two at once."""
        with self._lock:
            return self._run_pass(everything, progress)

    def run_forever(
        self, stop: threading.Event, *, poll_seconds: float = 5.0, wakeup: Wakeup | None = None
    ) -> None:
        """The worker loop over passes of what is due (see ``loop.run_forever``)."""
        run_forever(lambda: self.run_pass(everything=False), stop, poll_seconds=poll_seconds, wakeup=wakeup)

    def _run_pass(self, everything: bool, progress: Progress | None) -> PassSummary:
        started = self.clock()
        summary = PassSummary()
        t0 = time.perf_counter()
        try:
            self.runs.start(summary, started)
            listing = self.discovery.discover(summary, started, force=everything)
            self._read_due(listing, summary, everything=everything, started=started, progress=progress)
            if everything:
                summary.skipped = self.claims.held_elsewhere(listing.source_ids, started)
            summary.deleted = expire_orphans(self.store, self.settings.sync, self.clock())
        except Exception as exc:
            summary.result = "failed"
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.claims.release_after_failure()
            self.runs.finish(summary, t0, message=reason)
            run_hooks(self.after_pass, summary)
            if isinstance(exc, StoreError):
                raise StoreError(f"the database failed during the pass: {reason}") from None
            raise
        if not everything and summary.repositories == 0 and summary.deleted == 0:
            self.runs.forget(summary)
            return summary
        self.runs.finish(summary, t0)
        run_hooks(self.after_pass, summary)
        return summary

    def _read_due(
        self,
        listing: Listing,
        summary: PassSummary,
        *,
        everything: bool,
        started: datetime,
        progress: Progress | None,
    ) -> None:
        """Settle the repositories whose tip is known not to have moved (``unmoved``), claim and read
        the other due ones batch by batch; then, if anything was orphaned, the repositories flagged for
        a rescan (a conflict may have been resolved by what went away)."""
        total = len(listing.repositories)
        done = settle_unmoved(
            self.store,
            self.worker_id,
            listing,
            summary,
            clock=self.clock,
            interval_seconds=self.settings.sync.interval_seconds,
            started_before=started if everything else None,
        )
        if progress and done:
            progress(done, max(total, done))
        writer = GroupWriter(
            self.store, self.claims, self.clock, self.settings.sync.interval_seconds, summary, started
        )
        concurrency = self.settings.sync.concurrency
        keepalive = self.settings.sync.lease_seconds / 3
        with (
            WorkerPools(concurrency, self._scans) as pools,
            TipAsker(concurrency, keepalive=keepalive) as tips,
        ):
            reader = BatchReader(
                self.settings, self.store, self.claims, self.clock, pools, writer, summary, tips
            )

            def relist(source_ids: set[int]) -> None:
                self.discovery.relist_outdated(listing, source_ids, summary, started)

            for rescan_only in (False, True):
                if rescan_only and not (summary.orphaned or summary.taken_over):
                    break
                while True:
                    claimed = self.claims.claim(
                        limit=self.claim_batch * (ONE_OFF_BATCHES if everything else 1),
                        source_ids=listing.source_ids,
                        rescan_only=rescan_only,
                        started_before=started if everything else None,
                    )
                    if not claimed:
                        break
                    reader.read(claimed, listing.repositories, listing.source_names, relist, listing.arrivals)
                    done += len(claimed)
                    if progress:
                        progress(done, max(total, done))
                    if rescan_only:
                        break
