"""Writing what was read: reconcile each scanned repository against the catalog and apply the plans.

Scanned repositories are written in groups, each group in one transaction (ten statements per group
instead of per repository). When the database refuses a group's rows (another worker wrote the same
entity meanwhile, or a value it will not store), each repository is redone alone, so only the one at
fault fails and the loser of a race sees the winner's entity as a conflict on its next pass.
"""

from __future__ import annotations

from datetime import datetime

from catalog_sync.errors import CatalogSyncError, RefusedError, WriteRaceError
from catalog_sync.model import EntityRef
from catalog_sync.plans import KnownEntity, Plan
from catalog_sync.reconcile import held_after, plan_repository
from catalog_sync.store.sync_store import SyncStore
from catalog_sync.sync.claims import Claims
from catalog_sync.sync.pushes import seconds_since
from catalog_sync.sync.summary import Clock, PassSummary
from catalog_sync.sync.workers import ScanOutcome

RACE_MESSAGE = "another worker changed the same entities at the same moment; retrying on the next pass"
REFUSED_MESSAGE = "the database refused to store this repository's entities: {reason}"


class KnownRefs:
    """The ref keys in the catalog, read once per pass and only if something is reconciled.

    Used to resolve a bare owner to a Team or a Group; a hint kept current by this worker's writes.
    """

    def __init__(self, store: SyncStore) -> None:
        self._store = store
        self._keys: set[str] | None = None

    def _load(self) -> set[str]:
        if self._keys is None:
            self._keys = self._store.catalog_ref_keys()
        return self._keys

    def __contains__(self, key: object) -> bool:
        return key in self._load()

    def update(self, keys: set[str]) -> None:
        """Remember keys this worker just wrote."""
        self._load().update(keys)


class GroupWriter:
    """Reconciles and writes groups of scanned repositories for one pass."""

    def __init__(
        self,
        store: SyncStore,
        claims: Claims,
        clock: Clock,
        interval_seconds: int,
        summary: PassSummary,
        started: datetime | None = None,
    ) -> None:
        self._store = store
        self._claims = claims
        self._clock = clock
        self._interval = interval_seconds
        self._summary = summary
        self._known = KnownRefs(store)
        self._started = started
        self._read_past: dict[int, str] = {}
        """Pushed commits of repositories read at another commit, settled by that read's write."""
        self._newcomers: dict[int, datetime] = {}
        """Repositories a delivery's request had listed, with its arrival, until their first write."""

    def expect_newcomers(self, arrivals: dict[int, datetime]) -> None:
        """Observe how long each of these repositories (by id) took to be visible, from the arrival of
        the delivery that had its source list it to the write of its first read in this pass."""
        self._newcomers.update(arrivals)

    def settle_with_read(self, pushes: dict[int, str]) -> None:
        """Settle each repository's pushed commit in the transaction that writes its read at another
        commit (a newer tip, or the commit a rescan reads). Settled any earlier, a read that then
        failed would forget the push, and the delivery would be counted visible before it was."""
        self._read_past.update(pushes)

    def write(self, group: list[ScanOutcome]) -> None:
        """Record the group's failures, then write its scans; a refused group is redone one by one."""
        failures = [(o.repository_id, o.error or "unreadable") for o in group if o.result is None]
        scanned = [o for o in group if o.result is not None]
        for rid, _ in failures:
            self._read_past.pop(rid, None)  # the push stays waiting, and is read as one next time
        now = self._clock()
        if failures:
            with self._store.transaction() as tx:
                held = self._claims.held(tx, [rid for rid, _ in failures])
                self._store.record_failures(tx, [f for f in failures if f[0] in held], now, self._interval)
            self._summary.errors += len(failures)
        try:
            self._apply(scanned, now)
        except RefusedError:
            for outcome in sorted(scanned, key=lambda o: o.repository_id):
                try:
                    self._apply([outcome], now)
                except RefusedError as alone:
                    self._record_refused(outcome.repository_id, alone, now)

    def _record_refused(self, repository_id: int, error: RefusedError, now: datetime) -> None:
        if isinstance(error, WriteRaceError):
            message = RACE_MESSAGE
        else:
            message = REFUSED_MESSAGE.format(reason=str(error).split(" failed: ", 1)[-1][:300])
        with self._store.transaction() as tx:
            if repository_id in self._claims.held(tx, [repository_id]):
                self._store.record_failures(tx, [(repository_id, message)], now, self._interval)
        self._summary.errors += 1

    def _apply(self, scanned: list[ScanOutcome], now: datetime) -> None:
        if not scanned:
            return
        batch_keys: set[str] = set()

        def exists(ref: EntityRef) -> bool:
            return ref.key in self._known or ref.key in batch_keys

        with self._store.transaction() as tx:
            held = self._claims.held(tx, [o.repository_id for o in scanned])
            scanned = [o for o in scanned if o.repository_id in held]
            batch_keys = {
                key
                for o in scanned
                for f in (o.result.files if o.result else [])
                for d in f.documents
                if d.entity is not None and d.ref and (key := _safe_key(d.ref))
            }
            own, others = self._store.load_known(tx, [o.repository_id for o in scanned], batch_keys)
            plans = []
            for outcome in sorted(scanned, key=lambda o: o.repository_id):
                plans.append(_plan(outcome, own[outcome.repository_id], others, self._started))
                self._store.refuse_oversized(plans[-1])
                held_after(plans[-1], others)
            counts = self._store.apply_plans(
                tx, plans, now=now, interval_seconds=self._interval, exists=exists
            )
            read = [(o.repository_id, o.commit) for o in scanned]
            read += [(rid, pushed) for rid, _ in read if (pushed := self._read_past.get(rid))]
            arrived = self._store.settle_pushes(tx, read, now)
        for rid, _ in read:
            self._read_past.pop(rid, None)
        summary = self._summary
        summary.push_visible_seconds.extend(seconds_since(arrived))
        newcomers = [at for rid, _ in read if (at := self._newcomers.pop(rid, None)) is not None]
        summary.newcomer_visible_seconds.extend(seconds_since(newcomers))
        self._known.update(batch_keys)
        summary.added += counts.added
        summary.updated += counts.updated
        summary.orphaned += counts.orphaned
        summary.changed_entity_ids.extend(counts.changed_ids)
        summary.changed += sum(1 for p in plans if p.changed)
        summary.unchanged += sum(1 for p in plans if not p.changed)
        summary.conflicts += sum(p.conflicts for p in plans)
        summary.taken_over += counts.taken_over
        summary.descriptor_problems += sum(1 for p in plans for r in p.problems if r.category == "descriptor")


def _plan(
    outcome: ScanOutcome, own: dict[str, KnownEntity], others: dict[str, KnownEntity], since: datetime | None
) -> Plan:
    result = outcome.result
    assert result is not None
    return plan_repository(
        outcome.repository_id,
        commit=outcome.commit,
        repo_url=outcome.url,
        branch=outcome.branch,
        files=result.files,
        descriptor_changed=result.descriptor_changed,
        facts=result.facts.to_dict(),
        own=own,
        others=others,
        prepared=outcome.prepared,
        unread=outcome.unread,
        contested_since=since,
    )


def _safe_key(ref: str) -> str | None:
    try:
        return EntityRef.parse(ref).key
    except CatalogSyncError:
        return None
