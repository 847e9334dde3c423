"""Claims and leases: which due repositories this worker takes, keeps, and gives back.

A worker claims due repositories in batches with a lease; every write transaction of the pass starts by
renewing the lease and keeping only what the worker still holds, so a worker whose lease lapsed (a
stall, a long batch) never overwrites what another worker read since. A pass that fails gives its
claims back instead of holding them for a lease.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from catalog_sync.errors import StoreError
from catalog_sync.store.base import Transaction
from catalog_sync.store.sync_store import ClaimedRepository, SyncStore
from catalog_sync.sync.summary import Clock

log = logging.getLogger(__name__)


class Claims:
    """One worker's claims on the fleet's repositories."""

    def __init__(self, store: SyncStore, worker_id: str, clock: Clock, lease_seconds: int) -> None:
        self._store = store
        self.worker_id = worker_id
        self._clock = clock
        self._lease = lease_seconds

    def claim(
        self,
        *,
        limit: int,
        source_ids: Sequence[int],
        rescan_only: bool,
        started_before: datetime | None,
    ) -> list[ClaimedRepository]:
        """Claim the next batch of due repositories (see ``SyncStore.claim_due``)."""
        with self._store.transaction() as tx:
            return self._store.claim_due(
                tx,
                self.worker_id,
                now=self._clock(),
                lease_seconds=self._lease,
                limit=limit,
                source_ids=source_ids,
                rescan_only=rescan_only,
                started_before=started_before,
            )

    def held_elsewhere(self, source_ids: Sequence[int], started: datetime) -> list[dict[str, Any]]:
        """What a one-off pass begun at ``started`` could not read: due repositories other workers
        hold, by holder and until when, for its summary (a pass must never skip work silently)."""
        held = self._store.held_elsewhere(
            self.worker_id, source_ids=source_ids, started_before=started, now=self._clock()
        )
        return [{"holder": h.holder, "repositories": h.repositories, "until": h.until} for h in held]

    def held(self, tx: Transaction, ids: Sequence[int]) -> set[int]:
        """Renew this worker's claims and keep only the repositories it still holds."""
        held = self._store.hold(tx, self.worker_id, ids, now=self._clock(), lease_seconds=self._lease)
        if len(held) < len(set(ids)):
            log.warning(
                "%d repositories were taken over by another worker; not writing them", len(set(ids) - held)
            )
        return held

    def release_after_failure(self) -> None:
        """Give back this worker's claims so a failed pass does not hold repositories for a lease."""
        try:
            self._store.release_all_claims(self.worker_id)
        except StoreError:
            log.warning("could not release the claims of %s; they lapse with their lease", self.worker_id)
