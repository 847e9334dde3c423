"""One claimed batch: ask each repository for its tip, keep the bookkeeping of those that did not move,
and scan the others, handing the scans to the writer in groups.

Tips are handled as they arrive (``tips.TipAsker``): the repositories that answered are recorded,
scanned and written while slower hosts are still being waited for, so a host that never answers costs
its own repository a timeout and nobody else any time.

A repository whose tip equals the commit last reconciled costs one bookkeeping row: that is what makes
a re-sync of a large fleet cheap. One the sources no longer list keeps its entities and says why.

A repository a push delivery named is read at the pushed commit (``Pinned``), not at whatever the
source answers for its tip: a hosting API's tip answer may lag the push (the hosted sources answer
tips from a cache), and the delivery already said which commit is new; unless the commit read last
already descends from it (a push delivered late). Once written, or found old, the mark is cleared in
the write's transaction (``SyncStore.settle_pushes``); so is the mark of a push read past (a newer
tip read instead), in the transaction that writes the newer read, so a read that fails keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from catalog_sync.config import Settings
from catalog_sync.descriptors.references import ScorecardIndex, refuse_unknown, terms_of_spec
from catalog_sync.descriptors.trust import KindTrust
from catalog_sync.model import files_root
from catalog_sync.scoring.definitions import read_file_scorecards
from catalog_sync.sources.base import Repository
from catalog_sync.store.sync_store import ClaimedRepository, SyncStore
from catalog_sync.sync.claims import Claims
from catalog_sync.sync.pushes import Pinned, seconds_since
from catalog_sync.sync.summary import Clock, PassSummary
from catalog_sync.sync.tips import TipAnswer, TipAsker
from catalog_sync.sync.workers import ScanOutcome, ScanTask, WorkerPools
from catalog_sync.sync.writing import GroupWriter

UNLISTED_MESSAGE = (
    "the source no longer lists this repository; its entities are kept (a GitHub or GitLab source "
    "removes a repository missing from two complete listings; otherwise see the source's error: removing "
    "it was refused, or the source could not be listed)"
)
NO_COMMIT_MESSAGE = (
    "the branch read before has no commit any more (the host answers none); its entities are kept"
)
WRITE_GROUP = 256


def _settled_by(claimed: ClaimedRepository, tip: str) -> str | None:
    """The pushed commit of a repository read at another commit (``Pinned`` found the push old, or a
    newer tip on its branch); None otherwise."""
    pushed = claimed.pushed_commit
    return pushed if pushed is not None and pushed != tip else None


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
        tips: TipAsker,
    ) -> None:
        self._settings = settings
        self._store = store
        self._claims = claims
        self._clock = clock
        self._pools = pools
        self._writer = writer
        self._summary = summary
        self._tips = tips
        self._trust = KindTrust.of(settings.scorecards.trusted_sources)
        self._known: ScorecardIndex | None = None

    def read(
        self,
        claimed: list[ClaimedRepository],
        repositories: dict[tuple[int, str], Repository],
        source_names: Mapping[int, str],
        relist: Callable[[set[int]], None] | None = None,
        arrivals: dict[tuple[int, str], datetime] | None = None,
    ) -> None:
        """Read one claimed batch and write what changed, group by group as the tips arrive. A claimed
        repository ``repositories`` lacks has its source handed to ``relist`` first, which lists again
        (into ``repositories``) a source another worker listed since (``Discovery.relist_outdated``).
        A claimed repository in ``arrivals`` (``Listing.arrivals``) is taken out of it, and how soon it
        becomes visible is observed."""
        missing = {
            c.source_id for c in claimed if not c.listing_error and (c.source_id, c.key) not in repositories
        }
        if missing and relist is not None:
            relist(missing)
        if arrivals:
            taken = {c.id: arrivals.pop((c.source_id, c.key), None) for c in claimed}
            self._writer.expect_newcomers({rid: at for rid, at in taken.items() if at is not None})
        repo_of: dict[int, Repository] = {}
        asked: dict[int, Repository] = {}
        unlisted: list[tuple[int, str]] = []
        for c in claimed:
            repository = repositories.get((c.source_id, c.key))
            if c.listing_error:
                unlisted.append((c.id, c.listing_error))
            elif repository is not None:
                repo_of[c.id] = repository
                pushed = c.pushed_commit
                pinned = Pinned(repository, pushed, c.last_commit, c.pushes_merged) if pushed else None
                asked[c.id] = pinned or repository
            else:
                unlisted.append((c.id, UNLISTED_MESSAGE))
        self._summary.repositories += len(claimed)
        by_id = {c.id: c for c in claimed}
        source_of = {c.id: source_names.get(c.source_id, "") for c in claimed}
        if unlisted:
            self._record([], unlisted, by_id, repo_of)

        def wants_read(rid: int, tip: str) -> bool:
            return tip != by_id[rid].last_commit or by_id[rid].rescan

        for answers in self._tips.ask(asked, wants_read):
            if not answers:  # slow hosts still answering: keep the claims (and the heartbeat) alive
                with self._store.transaction() as tx:
                    self._claims.held(tx, [])
                continue
            self._scan_and_write(self._record(answers, [], by_id, repo_of), source_of)

    def _scan_and_write(self, tasks: list[ScanTask], source_of: Mapping[int, str]) -> None:
        """Scan, refuse the kinds only a trusted source may define and the documents naming scorecards,
        checks or levels nobody defines, and write in groups.

        The refusals happen once a repository is read and before anything is reconciled, so such a
        descriptor surfaces as an error on its own repository.
        """
        group: list[ScanOutcome] = []
        for outcome in self._pools.scan(tasks):
            if outcome.result is not None:
                self._trust.refuse_untrusted(outcome.result.files, source_of[outcome.repository_id])
                refuse_unknown(outcome.result.files, self._known_scorecards())
            group.append(outcome)
            if len(group) >= WRITE_GROUP:
                self._writer.write(group)
                group = []
        if group:
            self._writer.write(group)

    def _known_scorecards(self) -> ScorecardIndex:
        """The configured scorecard files and those the last re-score published, read once a pass."""
        if self._known is None:
            files, _ = read_file_scorecards(self._settings)
            terms = {card.name: terms_of_spec(card.spec) for card in files}
            self._known = {**terms, **self._store.scorecard_terms()}
        return self._known

    def _record(
        self,
        answers: list[TipAnswer],
        failures: list[tuple[int, str]],
        by_id: dict[int, ClaimedRepository],
        repo_of: dict[int, Repository],
    ) -> list[ScanTask]:
        """Record the unchanged and the failing of these answers; answer what must be scanned."""
        interval = self._settings.sync.interval_seconds
        unchanged: list[int] = []
        empty: list[int] = []
        failures = list(failures)
        to_scan: list[tuple[int, str]] = []
        for rid, tip, error in answers:
            if tip is None and error is None and by_id[rid].last_commit is None:
                empty.append(rid)  # never read, nothing to read yet: read and unchanged, not failing
            elif error is not None or tip is None:
                if error is None and (forget := getattr(repo_of.get(rid), "forget_tip", None)) is not None:
                    forget()  # read before: an empty answer fails it, and is asked again next time
                failures.append((rid, error or NO_COMMIT_MESSAGE))
            elif tip == by_id[rid].last_commit and not by_id[rid].rescan:
                unchanged.append(rid)
            else:
                to_scan.append((rid, tip))
        now = self._clock()
        with self._store.transaction() as tx:
            held = self._claims.held(tx, [rid for rid, _, _ in answers] + [rid for rid, _ in failures])
            unchanged = [rid for rid in unchanged if rid in held]
            self._store.record_unchanged(tx, unchanged + [rid for rid in empty if rid in held], now, interval)
            tips = {rid: tip for rid, tip, _ in answers if tip is not None}
            # An unchanged repository's push is settled: its commit was read before, or the commit
            # read already descends from it (``Pinned``). The push of one read at another commit than
            # the pushed one (the commit read, for a rescan; a newer tip) is settled with that read.
            settled = [(rid, by_id[rid].pushed_commit or tips[rid]) for rid in unchanged]
            to_scan = [(rid, tip) for rid, tip in to_scan if rid in held]
            self._writer.settle_with_read(
                {rid: pushed for rid, tip in to_scan if (pushed := _settled_by(by_id[rid], tip))}
            )
            arrived = self._store.settle_pushes(tx, settled, now)
            self._store.record_failures(tx, [f for f in failures if f[0] in held], now, interval)
            previous = self._store.previous_reads(tx, [rid for rid, _ in to_scan]) if to_scan else {}
        self._summary.unchanged += len(unchanged) + len(empty)
        self._summary.errors += len(failures)
        self._summary.push_visible_seconds.extend(seconds_since(arrived))
        return [
            ScanTask(
                rid,
                repo_of[rid],
                tip,
                files_root(repo_of[rid].info.url, repo_of[rid].info.key),
                repo_of[rid].info.branch,
                previous[rid].blobs,
                previous[rid].changed,
                self._settings.descriptors,
                self._settings.sync.fact_paths,
                now,
                self._settings.sync.scan_timeout_seconds,
                self._settings.kpis.release_tag_pattern,
            )
            for rid, tip in to_scan
        ]
