"""Settling, before anything is claimed, the repositories whose source knows their tip has not moved.

A pass over a fleet where little changed spends nearly all its time on repositories it will not read.
Where the source answers a tip without asking anything (``tip_is_cheap``: a hosting API's listing whose
push time has not moved, a local ref file) and that tip is the commit last read, the repository is
recorded unchanged in bulk (``SyncStore.record_unmoved``) instead of being claimed, asked, renewed and
recorded one batch at a time. What a user sees is the same: the repository counts as read and
unchanged in the pass's summary and metrics, and its last-checked time and next due time move as for
any unchanged repository.

Everything else (a tip that must be asked for, a moved tip, a rescan or a push waiting, a failing
repository, one another worker holds) is left due and goes through claims (``batch.BatchReader``).
"""

from __future__ import annotations

from datetime import datetime

from catalog_sync.store.sync_store import NO_COMMIT, SyncStore, UnmovedCandidate
from catalog_sync.sync.discovery import Listing
from catalog_sync.sync.summary import Clock, PassSummary
from catalog_sync.sync.workers import ask_tip


def settle_unmoved(
    store: SyncStore,
    worker: str,
    listing: Listing,
    summary: PassSummary,
    *,
    clock: Clock,
    interval_seconds: int,
    started_before: datetime | None,
) -> int:
    """Record unchanged every due repository whose cheap tip is its last commit; answers how many.

    ``started_before``: the start of a one-off pass (due means not synced since), else None (due means
    its next sync time has come), as for ``SyncStore.claim_due``.
    """

    def cheap_tip(candidate: UnmovedCandidate) -> str | None:
        repository = listing.repositories.get((candidate.source_id, candidate.key))
        if repository is None or not getattr(repository, "tip_is_cheap", False):
            return None
        tip, error = ask_tip(repository)  # an error is recorded when the repository is claimed and asked
        return NO_COMMIT if tip is None and error is None else tip  # neither: an empty repository

    sources = _with_cheap_tips(listing)
    if not sources:
        return 0  # every tip must be asked for: the claims do it
    with store.transaction() as tx:
        settled = store.record_unmoved(
            tx,
            worker,
            cheap_tip,
            now=clock(),
            interval_seconds=interval_seconds,
            source_ids=sources,
            started_before=started_before,
        )
    summary.repositories += settled
    summary.unchanged += settled
    return settled


def _with_cheap_tips(listing: Listing) -> list[int]:
    """The listed sources with at least one tip known without asking: only their repositories are
    read (and, on PostgreSQL, locked for the moment of the write) as candidates."""
    cheap: set[int] = set()
    for (source_id, _), repository in listing.repositories.items():
        if source_id not in cheap and getattr(repository, "tip_is_cheap", False):
            cheap.add(source_id)
    return [source_id for source_id in listing.source_ids if source_id in cheap]


__all__ = ["settle_unmoved"]
