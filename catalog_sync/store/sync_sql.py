"""``SqlSyncStore``: the ``SyncStore`` protocol over SQLite and PostgreSQL, with SQLAlchemy Core.

Each operation is one of the store's functions (``repos``: claims, runs, bookkeeping; ``listing``:
sources and what they list; ``writer``: applying plans; ``orphans``: expiry), run on the transaction's
connection; those that need no atomicity with others open their own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import select

from catalog_sync.descriptors.references import ScorecardTerms
from catalog_sync.model import EntityRef
from catalog_sync.plans import KnownEntity, ListedRepository, OrphanRow, Plan, RemovalDecision
from catalog_sync.sources.base import RepositoryInfo
from catalog_sync.sources.registered import RegisteredRepository
from catalog_sync.store import fitting, listing, orphans, repos, run_records, unmoved, writer
from catalog_sync.store.base import Database, Transaction, connection_of
from catalog_sync.store.outbox import enqueue
from catalog_sync.store.outbox.repository_events import failing_events
from catalog_sync.store.outbox.types import Route
from catalog_sync.store.scorecard_terms import published_terms, reread_refused
from catalog_sync.store.sync_store import (
    Applied,
    ClaimedRepository,
    HeldElsewhere,
    PreviousRead,
    RunningRun,
    UnmovedCandidate,
)
from catalog_sync.store.tables import entities


class SqlSyncStore:
    """The sync pass's store on one database."""

    def __init__(self, database: Database, *, routes: Sequence[Route] = ()) -> None:
        self._database = database
        self._routes = tuple(routes)
        """The notification channels: a repository that starts failing is announced in the same write."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction (see ``Database.transaction``)."""
        return self._database.transaction()

    def start_run(self, worker: str, now: datetime) -> int:
        """Record that a pass began."""
        with self._database.transaction() as tx:
            return repos.start_run(connection_of(tx), worker, now)

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
        """Record a pass's outcome; the message is stored redacted."""
        with self._database.transaction() as tx:
            repos.finish_run(
                connection_of(tx),
                run_id,
                now=now,
                result=result,
                counts=counts,
                duration=duration,
                message=message,
            )

    def running_runs(self) -> list[RunningRun]:
        """Every pass recorded as running."""
        with self._database.reading() as tx:
            return run_records.running_runs(connection_of(tx))

    def abort_run(self, run: RunningRun, *, now: datetime, reason: str) -> int:
        """Close a dead pass as aborted and give back its claims."""
        with self._database.transaction() as tx:
            return run_records.abort_run(connection_of(tx), run, now=now, reason=reason)

    def held_elsewhere(
        self, worker: str, *, source_ids: Sequence[int], started_before: datetime, now: datetime
    ) -> list[HeldElsewhere]:
        """Due repositories other workers hold."""
        with self._database.reading() as tx:
            return run_records.held_elsewhere(
                connection_of(tx), worker, source_ids=source_ids, started_before=started_before, now=now
            )

    def forget_run(self, run_id: int) -> None:
        """Delete a run that did nothing."""
        with self._database.transaction() as tx:
            repos.delete_run(connection_of(tx), run_id)

    def ensure_source(self, tx: Transaction, name: str, type_: str, target: str) -> int:
        """The source's id, created on first sight; its target stored redacted."""
        return repos.ensure_source(connection_of(tx), name, type_, target)

    def find_source(self, tx: Transaction, name: str) -> int | None:
        """The source's id, or None."""
        return listing.find_source(connection_of(tx), name)

    def reread_on_new_rules(self, tx: Transaction, source_id: int, rules: str, now: datetime) -> int:
        """See ``SyncStore``."""
        return repos.reread_on_new_rules(connection_of(tx), source_id, rules, now)

    def listed_repositories(self, tx: Transaction, source_id: int) -> list[ListedRepository]:
        """The source's repositories not removed."""
        return listing.listed_repositories(connection_of(tx), source_id)

    def last_listed(self, tx: Transaction, source_id: int) -> datetime | None:
        """The source's last recorded listing's mark, as stored."""
        return listing.last_listed(connection_of(tx), source_id)

    def listed_beside(self, tx: Transaction, source_id: int, seen: datetime | None) -> bool:
        """Whether another listing was recorded since ``seen`` was read (the source's row locked)."""
        return listing.listed_beside(connection_of(tx), source_id, seen)

    def record_discovery(
        self,
        tx: Transaction,
        source_id: int,
        found: Sequence[RepositoryInfo],
        decision: RemovalDecision,
        *,
        now: datetime,
    ) -> list[str]:
        """Record the listing and apply the removal decision; answer the refused repositories."""
        return listing.record_discovery(connection_of(tx), source_id, found, decision, now=now)

    def record_source_failure(self, tx: Transaction, source_id: int, message: str, now: datetime) -> None:
        """Show the source's error, redacted."""
        listing.record_source_failure(connection_of(tx), source_id, message, now)

    def listing_requests(self) -> dict[str, datetime]:
        """The listings pushes asked for, read now."""
        with self._database.reading() as tx:
            return listing.listing_requests(connection_of(tx))

    def clear_listing_request(self, tx: Transaction, source_id: int, seen: datetime) -> None:
        """Clear the request the listing answered."""
        listing.clear_listing_request(connection_of(tx), source_id, seen)

    def registered_repositories(self) -> list[RegisteredRepository]:
        """The registrations, read now."""
        with self._database.reading() as tx:
            return listing.registered_repositories(connection_of(tx))

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
        """Claim due repositories (``FOR UPDATE SKIP LOCKED`` on PostgreSQL)."""
        return repos.claim_due(
            connection_of(tx),
            worker,
            now=now,
            lease_seconds=lease_seconds,
            limit=limit,
            source_ids=source_ids,
            started_before=started_before,
            rescan_only=rescan_only,
        )

    def hold(
        self, tx: Transaction, worker: str, ids: Sequence[int], *, now: datetime, lease_seconds: int
    ) -> set[int]:
        """Renew the claims; answer those still held."""
        return repos.hold(connection_of(tx), worker, ids, now=now, lease_seconds=lease_seconds)

    def release_all_claims(self, worker: str) -> None:
        """Give back every claim of ``worker``."""
        with self._database.transaction() as tx:
            repos.release_all_claims(connection_of(tx), worker)

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
        """See ``SyncStore``."""
        return unmoved.record_unmoved(
            connection_of(tx),
            worker,
            tip_of,
            now=now,
            interval_seconds=interval_seconds,
            source_ids=source_ids,
            started_before=started_before,
        )

    def make_due(self, repository_id: int, *, now: datetime) -> bool:
        """Make one repository due now, flagged for a full read."""
        with self._database.transaction() as tx:
            return repos.make_due(connection_of(tx), repository_id, now)

    def settle_pushes(
        self, tx: Transaction, read: Sequence[tuple[int, str]], now: datetime
    ) -> list[datetime]:
        """Clear the pushed commits read; keep due what a newer push arrived for."""
        return repos.settle_pushes(connection_of(tx), read, now)

    def record_unchanged(
        self, tx: Transaction, ids: Sequence[int], now: datetime, interval_seconds: int
    ) -> None:
        """Bookkeeping for repositories whose tip did not move."""
        repos.record_unchanged(connection_of(tx), ids, now, interval_seconds)

    def record_failures(
        self, tx: Transaction, failures: Sequence[tuple[int, str]], now: datetime, interval_seconds: int
    ) -> None:
        """Failures, stored redacted, with back-off; a repository's first failure in a row is announced."""
        conn = connection_of(tx)
        events = failing_events(conn, failures) if self._routes and failures else []
        repos.record_failures(conn, failures, now, interval_seconds)
        enqueue.write_events(conn, self._routes, events, now)

    def previous_reads(self, tx: Transaction, ids: Sequence[int]) -> dict[int, PreviousRead]:
        """Each repository's descriptor files at its last read."""
        previous = repos.repository_previous(connection_of(tx), ids)
        return {rid: PreviousRead(p["blobs"], p["changed"]) for rid, p in previous.items()}

    def scorecard_terms(self) -> dict[str, ScorecardTerms]:
        """The published scorecards' check ids and levels."""
        with self._database.reading() as tx:
            return published_terms(connection_of(tx))

    def reread_refused(self, now: datetime) -> int:
        """Make the repositories refused for unknown scorecard names due for a full read."""
        with self._database.transaction() as tx:
            return reread_refused(connection_of(tx), now)

    def catalog_ref_keys(self) -> set[str]:
        """Every entity's ref key."""
        with self._database.reading() as tx:
            return set(connection_of(tx).execute(select(entities.c.ref_key)).scalars())

    def load_known(
        self, tx: Transaction, repository_ids: Sequence[int], ref_keys: Iterable[str]
    ) -> tuple[dict[int, dict[str, KnownEntity]], dict[str, KnownEntity]]:
        """Entities held by the repositories, and by others under ``ref_keys``."""
        return writer.load_known(connection_of(tx), repository_ids, ref_keys)

    def refuse_oversized(self, plan: Plan) -> None:
        """See ``SyncStore``."""
        fitting.refuse_oversized(plan)

    def apply_plans(
        self,
        tx: Transaction,
        plans: Sequence[Plan],
        *,
        now: datetime,
        interval_seconds: int,
        exists: Callable[[EntityRef], bool],
    ) -> Applied:
        """Write the plans; relations follow (see ``writer.apply_plans``)."""
        return writer.apply_plans(
            connection_of(tx), plans, now=now, interval_seconds=interval_seconds, exists=exists
        )

    def list_orphans(self, tx: Transaction) -> list[OrphanRow]:
        """Every orphan and since when."""
        return orphans.list_orphans(connection_of(tx))

    def delete_orphans(self, tx: Transaction, ids: Sequence[int]) -> int:
        """Delete the chosen orphans; relations follow."""
        return orphans.delete_orphans(connection_of(tx), ids)
