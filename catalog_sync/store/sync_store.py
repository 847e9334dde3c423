"""What a sync pass needs of the database: the ``SyncStore`` protocol.

The sync package holds a ``SyncStore`` and nothing else of the store: no engine, no table, no SQL. Its
operations take a ``Transaction`` where the pass needs several to be atomic (renewing its claims and
recording what it read; reading a source's listing and applying the removal decision) and open their
own otherwise. The rules that a caller could forget live in the operations: applying plans and
deleting orphans re-point the relations that named what changed; every text that may quote git, the
network or a configuration (a repository's failure, a source's error, a run's message, a problem) is
stored redacted. Failures surface as the error tree: ``StoreError`` when the database fails,
``RefusedError`` when it refuses a write's values, ``WriteRaceError`` when another writer stored the same
row first. ``sync_sql.SqlSyncStore`` implements it over SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from catalog_sync.descriptors.references import ScorecardTerms
from catalog_sync.model import EntityRef
from catalog_sync.plans import KnownEntity, ListedRepository, OrphanRow, Plan, RemovalDecision
from catalog_sync.sources.base import RepositoryInfo
from catalog_sync.sources.registered import RegisteredRepository
from catalog_sync.store.base import Transaction


@dataclass(frozen=True)
class ClaimedRepository:
    """A repository this worker holds the lease on, with what the pass needs to skip work."""

    id: int
    source_id: int
    key: str
    last_commit: str | None
    rescan: bool
    listing_error: str | None = None
    pushed_commit: str | None = None
    """The commit a push delivery named: read at it, whatever the source answers for its tip."""
    pushes_merged: bool = False
    """Another push arrived while one was waiting, and ``pushed_commit`` is the last to arrive: not
    necessarily the newest, since hosts do not promise order (``sync.pushes.Pinned`` asks)."""


NO_COMMIT = ""
"""The tip of an empty repository (its branch has no commit yet) and the last commit of one read as
empty: what ``record_unmoved`` compares, so an empty repository costs no claim either."""


class UnmovedCandidate(NamedTuple):
    """A due repository in good standing that its tip alone would settle: no claim is needed when its
    source knows, without asking anything, that its tip is still ``last_commit``."""

    id: int
    source_id: int
    key: str
    last_commit: str
    """``NO_COMMIT`` for a repository read as empty."""


@dataclass(frozen=True)
class RunningRun:
    """A pass recorded as running: who runs it, since when, and its last sign of life."""

    id: int
    worker: str
    started_at: datetime
    heartbeat_at: datetime | None


@dataclass(frozen=True)
class HeldElsewhere:
    """Repositories a pass could not read because another worker holds them, until when."""

    holder: str
    repositories: int
    until: datetime


@dataclass
class Applied:
    """What applying plans changed: counts for the summary, entity ids for rescoring."""

    added: int = 0
    updated: int = 0
    orphaned: int = 0
    unchanged: int = 0
    taken_over: int = 0
    changed_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PreviousRead:
    """A repository's descriptor files at its last read: their blobs and change times, so an unchanged
    file costs nothing."""

    blobs: dict[str, str] = field(default_factory=dict)
    changed: dict[str, datetime] = field(default_factory=dict)


class SyncStore(Protocol):
    """The database as one sync worker sees it: runs, sources, claims, and what a read changed."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction for several operations that must be atomic."""
        ...

    # Runs

    def start_run(self, worker: str, now: datetime) -> int:
        """Record that a pass began, so a pass that dies shows as never finished."""
        ...

    def finish_run(
        self,
        run_id: int,
        *,
        now: datetime,
        result: str,
        counts: dict[str, Any],
        duration: float,
        message: str | None = None,
    ) -> None:
        """Record a pass's outcome and counts for ``GET /api/sync/runs``."""
        ...

    def forget_run(self, run_id: int) -> None:
        """Forget a run that did nothing (the worker loop's poll when no repository was due)."""
        ...

    def running_runs(self) -> list[RunningRun]:
        """Every pass recorded as running, with its worker and last sign of life (its heartbeat,
        renewed with its claims by ``hold``): the sync engine tells the dead ones apart."""
        ...

    def abort_run(self, run: RunningRun, *, now: datetime, reason: str) -> int:
        """Close a dead pass as ``aborted`` with why, and give back the claims its worker still
        holds, so they wait for no lease; answers how many were given back."""
        ...

    def held_elsewhere(
        self, worker: str, *, source_ids: Sequence[int], started_before: datetime, now: datetime
    ) -> list[HeldElsewhere]:
        """The repositories a one-off pass (begun at ``started_before``) left unread because other
        workers hold live claims on them, by holder, with when the last claim lapses."""
        ...

    # Sources and what they list

    def ensure_source(self, tx: Transaction, name: str, type_: str, target: str) -> int:
        """The id of a configured source, created on first sight."""
        ...

    def find_source(self, tx: Transaction, name: str) -> int | None:
        """The id of a source the catalog already has, or None."""
        ...

    def reread_on_new_rules(self, tx: Transaction, source_id: int, rules: str, now: datetime) -> int:
        """Make all of a source's repositories due for a full read when ``rules`` (a digest of what
        decides how they are read) differs from the last pass's; answer how many. Without it, a new
        pattern or a withdrawn trust would wait for each repository's next commit."""
        ...

    def listed_repositories(self, tx: Transaction, source_id: int) -> list[ListedRepository]:
        """What the catalog holds for a source now: the listing a new one is judged against."""
        ...

    def last_listed(self, tx: Transaction, source_id: int) -> datetime | None:
        """The source's last recorded listing as the store holds it (``last_discovery_at``), or None
        before any: read when a listing starts, and handed back to ``listed_beside`` when it is
        recorded. It is written with the recording worker's clock, so it is only ever compared with
        itself, never with another host's clock."""
        ...

    def listed_beside(self, tx: Transaction, source_id: int, seen: datetime | None) -> bool:
        """Lock the source's listing for this transaction and answer whether another listing of it was
        recorded while this one ran: what is stored is no longer exactly ``seen`` (``last_listed`` at
        this listing's start). Two workers listing at the same moment can both miss a repository for
        the same reason, a list that shifted between its pages; comparing stored values, not clocks,
        keeps that true when the workers' hosts' clocks differ."""
        ...

    def record_discovery(
        self,
        tx: Transaction,
        source_id: int,
        found: Sequence[RepositoryInfo],
        decision: RemovalDecision,
        *,
        now: datetime,
    ) -> list[str]:
        """Record a source's new listing and apply the removal decision reconcile made for it.

        Answers why listed repositories were refused: a listed key, branch, URL or name longer than
        the catalog stores fails that repository alone (it is failed at each pass, never read, until
        listed with values that fit), never the listing.
        """
        ...

    def record_source_failure(self, tx: Transaction, source_id: int, message: str, now: datetime) -> None:
        """A source that cannot be listed keeps its repositories; the error is shown on the source."""
        ...

    def listing_requests(self) -> dict[str, datetime]:
        """The sources a push asked to list at once (it named a repository no source lists yet), with
        when: read at every pass, so a repository created minutes ago shows at its first push."""
        ...

    def clear_listing_request(self, tx: Transaction, source_id: int, seen: datetime) -> None:
        """The source was listed after the request ``seen``: clear it, unless a later push asked
        again meanwhile (its request stays for the next listing)."""
        ...

    def registered_repositories(self) -> list[RegisteredRepository]:
        """The repositories registered through the API, read now."""
        ...

    # Claims and leases

    def claim_due(
        self,
        tx: Transaction,
        worker: str,
        *,
        now: datetime,
        lease_seconds: int,
        limit: int,
        source_ids: Sequence[int],
        started_before: datetime | None = None,
        rescan_only: bool = False,
    ) -> list[ClaimedRepository]:
        """Claim up to ``limit`` due repositories; no two workers ever hold one."""
        ...

    def hold(
        self, tx: Transaction, worker: str, ids: Sequence[int], *, now: datetime, lease_seconds: int
    ) -> set[int]:
        """Renew the worker's claims and answer which of ``ids`` it still holds."""
        ...

    def release_all_claims(self, worker: str) -> None:
        """Give back every claim of ``worker`` (a pass that failed)."""
        ...

    def record_unmoved(
        self,
        tx: Transaction,
        worker: str,
        tip_of: Callable[[UnmovedCandidate], str | None],
        *,
        now: datetime,
        interval_seconds: int,
        source_ids: Sequence[int],
        started_before: datetime | None,
    ) -> int:
        """Without claiming them, record unchanged (as ``record_unchanged``) the due, free repositories
        in good standing with nothing asked of them but their tip (no rescan, no push waiting) whose
        tip, as ``tip_of`` knows it without asking anything (``NO_COMMIT`` for an empty repository, None
        when it does not know), is their last commit; answers how many. ``tip_of`` is called under the
        write's locks: it must not wait for a host."""
        ...

    def make_due(self, repository_id: int, *, now: datetime) -> bool:
        """Make one repository due now and read it fully (a push, a refresh); False when unknown."""
        ...

    def settle_pushes(
        self, tx: Transaction, read: Sequence[tuple[int, str]], now: datetime
    ) -> list[datetime]:
        """After the repositories were written as read at these commits: clear each pushed commit that
        was read, and keep due now any repository a newer push arrived for meanwhile (the write just
        scheduled it for the next interval). Answers when each cleared push's delivery arrived."""
        ...

    # What a read found

    def record_unchanged(
        self, tx: Transaction, ids: Sequence[int], now: datetime, interval_seconds: int
    ) -> None:
        """The tips did not move: only the bookkeeping changes."""
        ...

    def record_failures(
        self, tx: Transaction, failures: Sequence[tuple[int, str]], now: datetime, interval_seconds: int
    ) -> None:
        """Repositories that could not be read keep their entities; each is failing, then stale."""
        ...

    def previous_reads(self, tx: Transaction, ids: Sequence[int]) -> dict[int, PreviousRead]:
        """Each repository's descriptor files at its last read."""
        ...

    def catalog_ref_keys(self) -> set[str]:
        """Every entity's ref key, to resolve a bare owner to a Team or a Group."""
        ...

    def scorecard_terms(self) -> dict[str, ScorecardTerms]:
        """The published scorecards' check ids and levels, to check the names exemptions and
        initiatives write."""
        ...

    def reread_refused(self, now: datetime) -> int:
        """Make due for a full read the repositories with a document refused for naming an unknown
        scorecard, check or level; answer how many."""
        ...

    def load_known(
        self, tx: Transaction, repository_ids: Sequence[int], ref_keys: Iterable[str]
    ) -> tuple[dict[int, dict[str, KnownEntity]], dict[str, KnownEntity]]:
        """The entities the repositories hold now, and those others hold under ``ref_keys``."""
        ...

    def refuse_oversized(self, plan: Plan) -> None:
        """Take out of ``plan`` what the database cannot store, as problems of their own.

        ``apply_plans`` does it too; the sync calls it first as well, so a write that will be refused
        claims no entity from a repository that defines it within the limits."""
        ...

    def apply_plans(
        self,
        tx: Transaction,
        plans: Sequence[Plan],
        *,
        now: datetime,
        interval_seconds: int,
        exists: Callable[[EntityRef], bool],
    ) -> Applied:
        """Write the plans and mark their repositories synced; relations follow what was written."""
        ...

    # Expiry

    def list_orphans(self, tx: Transaction) -> list[OrphanRow]:
        """Every orphan and since when, for the expiry decision."""
        ...

    def delete_orphans(self, tx: Transaction, ids: Sequence[int]) -> int:
        """Delete the chosen orphans; relations that named them follow. Returns how many went."""
        ...
