"""One claimed batch: ask each repository for its tip, keep the bookkeeping of those that did not move,
and scan the others, handing the scans to the writer in groups.

A repository whose tip equals the commit last reconciled costs one bookkeeping row: that is what makes
a re-sync of a large fleet cheap. One the sources no longer list keeps its entities and says why.
"""

from __future__ import annotations

from catalog_sync.config import Settings
from catalog_sync.sources.base import Repository
from catalog_sync.store.sync_store import ClaimedRepository, SyncStore
from catalog_sync.sync.claims import Claims
from catalog_sync.sync.summary import Clock, PassSummary
from catalog_sync.sync.workers import ScanOutcome, ScanTask, WorkerPools, ask_tip
from catalog_sync.sync.writing import GroupWriter

UNLISTED_MESSAGE = (
    "the source no longer lists this repository; its entities are kept (see the source's error: "
    "removing it was refused, or the source could not be listed)"
)
NO_COMMIT_MESSAGE = "the repository has no commit on its branch"
WRITE_GROUP = 256


class BatchReader:
    """Reads the claimed batches of one pass."""

    def __init__(
        self,
        settings: Settings,
        store: SyncStore,
        claims: Claims,
        clock: Clock,
        pools: WorkerPools,
        writer: GroupWriter,
        summary: PassSummary,
    ) -> None:
        self._settings = settings
        self._store = store
        self._claims = claims
        self._clock = clock
        self._pools = pools
        self._writer = writer
        self._summary = summary

    def read(self, claimed: list[ClaimedRepository], repositories: dict[tuple[int, str], Repository]) -> None:
        """Read one claimed batch and write what changed."""
        tasks = self._triage(claimed, repositories)
        group: list[ScanOutcome] = []
        for outcome in self._pools.scan(tasks):
            group.append(outcome)
            if len(group) >= WRITE_GROUP:
                self._writer.write(group)
                group = []
        if group:
            self._writer.write(group)

    def _triage(
        self, claimed: list[ClaimedRepository], repositories: dict[tuple[int, str], Repository]
    ) -> list[ScanTask]:
        """Ask for the tips; record the unchanged and the failing; answer what must be scanned."""
        interval = self._settings.sync.interval_seconds
        by_id = {c.id: c for c in claimed}
        repo_of: dict[int, Repository] = {}
        unlisted: list[tuple[int, str]] = []
        for c in claimed:
            repository = repositories.get((c.source_id, c.key))
            if c.listing_error:
                unlisted.append((c.id, c.listing_error))
            elif repository is not None:
                repo_of[c.id] = repository
            else:
                unlisted.append((c.id, UNLISTED_MESSAGE))
        cheap = all(getattr(r, "tip_is_cheap", False) for r in repo_of.values())
        tips = self._pools.map_threads(lambda rid: ask_tip(repo_of[rid]), list(repo_of), inline=cheap)
        unchanged: list[int] = []
        failures: list[tuple[int, str]] = []
        to_scan: list[tuple[int, str]] = []
        for rid, (tip, error) in zip(list(repo_of), tips, strict=True):
            if error is not None or tip is None:
                failures.append((rid, error or NO_COMMIT_MESSAGE))
            elif tip == by_id[rid].last_commit and not by_id[rid].rescan:
                unchanged.append(rid)
            else:
                to_scan.append((rid, tip))
        failures.extend(unlisted)
        now = self._clock()
        with self._store.transaction() as tx:
            held = self._claims.held(tx, [c.id for c in claimed])
            self._store.record_unchanged(tx, [rid for rid in unchanged if rid in held], now, interval)
            self._store.record_failures(tx, [f for f in failures if f[0] in held], now, interval)
            to_scan = [(rid, tip) for rid, tip in to_scan if rid in held]
            previous = self._store.previous_reads(tx, [rid for rid, _ in to_scan])
        self._summary.repositories += len(claimed)
        self._summary.unchanged += len(unchanged)
        self._summary.errors += len(failures)
        return [
            ScanTask(
                rid,
                repo_of[rid],
                tip,
                repo_of[rid].info.url,
                repo_of[rid].info.branch,
                previous[rid].blobs,
                previous[rid].changed,
                self._settings.descriptors,
                self._settings.sync.fact_paths,
                now,
            )
            for rid, tip in to_scan
        ]
