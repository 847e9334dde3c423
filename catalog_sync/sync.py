"""The sync loop: which repositories are due, claiming them, reading them, reconciling them.

One pass: discover each source's repositories; claim due ones in batches; ask each for its tip (in
threads: for remote sources this is network I/O); repositories whose tip did not move cost one
bookkeeping row; the others are scanned and parsed in worker processes (CPU-bound) and reconciled in
groups, each group in one transaction. The same code runs one-off (``catalog-sync sync``), in a
background thread (``serve``) and as a scaled-out worker (``catalog-sync worker``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from catalog_sync.config import DescriptorSettings, Settings
from catalog_sync.descriptors.relations import COUNTERPARTS
from catalog_sync.errors import CatalogSyncError, SourceError, StoreError
from catalog_sync.model import EntityRef
from catalog_sync.reconcile import Plan, Prepared, plan_repository, prepare_files
from catalog_sync.scanner import ScanResult, scan
from catalog_sync.sources import build_source
from catalog_sync.sources.base import Repository, Source
from catalog_sync.sources.git import GitRepository
from catalog_sync.sources.urls import redact
from catalog_sync.store import repos as repo_store
from catalog_sync.store.repos import REGISTERED_SOURCE
from catalog_sync.store.tables import entities
from catalog_sync.store.tables import repositories as repositories_table
from catalog_sync.store.tables import sources as sources_table
from catalog_sync.store.writer import apply_plans, load_known, repoint_counterparts

log = logging.getLogger(__name__)

CLAIM_BATCH = 256
UNLISTED_MESSAGE = (
    "the source no longer lists this repository; its entities are kept (see the source's error: "
    "removing it was refused, or the source could not be listed)"
)
RACE_MESSAGE = "another worker changed the same entities at the same moment; retrying on the next pass"
WRITE_GROUP = 256
Clock = Callable[[], datetime]
Progress = Callable[[int, int], None]


def utcnow() -> datetime:
    """The current time, timezone-aware: every timestamp the catalog stores is UTC."""
    return datetime.now(UTC)


@dataclass
class PassSummary:
    """What one pass did; printed by ``catalog-sync sync`` and kept in ``sync_runs``."""

    run_id: int = 0
    result: str = "ok"
    repositories: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: int = 0
    added: int = 0
    updated: int = 0
    orphaned: int = 0
    deleted: int = 0
    conflicts: int = 0
    descriptor_problems: int = 0
    duration_seconds: float = 0.0
    sources: list[dict[str, Any]] = field(default_factory=list)
    changed_entity_ids: list[int] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``catalog-sync sync --format json``."""
        data = asdict(self)
        data.pop("changed_entity_ids")
        return data


@dataclass(frozen=True)
class ScanTask:
    """Everything a worker process needs to read one repository; picklable."""

    repository_id: int
    repository: Repository
    commit: str
    url: str
    branch: str | None
    previous_blobs: dict[str, str]
    previous_changed: dict[str, datetime]
    descriptors: DescriptorSettings
    fact_paths: tuple[str, ...]
    now: datetime


@dataclass(frozen=True)
class ScanOutcome:
    """A worker's answer: a scan, or why the repository could not be read."""

    repository_id: int
    commit: str
    url: str = ""
    branch: str | None = None
    result: ScanResult | None = None
    prepared: dict[tuple[str, int], Prepared] = field(default_factory=dict)
    error: str | None = None
    unread: dict[str, tuple[str, datetime | None]] = field(default_factory=dict)


def scan_repository(task: ScanTask) -> ScanOutcome:
    """Read one repository at one commit; runs in a worker process, so it returns, never raises."""
    try:
        snapshot = task.repository.snapshot(task.commit)
        try:
            result = scan(
                snapshot,
                task.descriptors,
                task.fact_paths,
                previous_blobs=task.previous_blobs,
                previous_changed=task.previous_changed,
                now=task.now,
            )
            read = {f.path for f in result.files}
            missing = [path for path in task.previous_blobs if path not in read]
            present = {e.path for e in snapshot.tree()} if missing else set()
            unread = {
                path: (task.previous_blobs[path], task.previous_changed.get(path))
                for path in missing
                if path in present
            }
        finally:
            snapshot.close()
        prepared = prepare_files(result.files, task.url, task.branch)
        return ScanOutcome(
            task.repository_id, task.commit, task.url, task.branch, result, prepared, unread=unread
        )
    except CatalogSyncError as exc:
        return ScanOutcome(task.repository_id, task.commit, error=redact(str(exc)))
    except Exception as exc:  # a bug reading one repository must not stop the fleet
        log.error("reading repository %s failed:\n%s", task.repository_id, redact(traceback.format_exc()))
        return ScanOutcome(
            task.repository_id,
            task.commit,
            error=f"internal error while reading: {type(exc).__name__}: {redact(str(exc))}",
        )


def _tip(repository: Repository) -> tuple[str | None, str | None]:
    try:
        return repository.tip(), None
    except CatalogSyncError as exc:
        return None, redact(str(exc))
    except Exception as exc:  # the same rule as scan_repository: one repository, one error
        return None, f"internal error while asking for the tip: {type(exc).__name__}: {redact(str(exc))}"


class SyncEngine:
    """Runs passes over the configured sources against one database."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        worker_id: str | None = None,
        sources: Sequence[Source] | None = None,
        clock: Clock = utcnow,
        after_pass: Sequence[Callable[[PassSummary], None]] = (),
        claim_batch: int = CLAIM_BATCH,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.after_pass = list(after_pass)
        self.claim_batch = claim_batch
        self._sources: list[Source | SourceError] | None = list(sources) if sources is not None else None
        self._lock = threading.Lock()
        self._listed: tuple[dict[tuple[int, str], Repository], list[int]] | None = None
        self._listed_at = 0.0

    def build_sources(self) -> list[Source | SourceError]:
        """The configured sources, built once; one that cannot be built is kept as its error."""
        if self._sources is None:
            sync = self.settings.sync
            cache = os.path.join(self.settings.base_dir, sync.cache_dir)
            built: list[Source | SourceError] = []
            for config in self.settings.sources:
                try:
                    built.append(
                        build_source(
                            config,
                            base_dir=self.settings.base_dir,
                            cache_dir=cache,
                            allowed_protocols=sync.allowed_protocols,
                        )
                    )
                except SourceError as exc:
                    built.append(exc)
            self._sources = built
        return self._sources

    def run_pass(self, *, everything: bool = True, progress: Progress | None = None) -> PassSummary:
        """One pass: every repository when ``everything``, else only those due; never two at once."""
        with self._lock:
            return self._run_pass(everything, progress)

    def _run_pass(self, everything: bool, progress: Progress | None) -> PassSummary:
        started = self.clock()
        t0 = time.perf_counter()
        summary = PassSummary()
        try:
            with self.engine.begin() as conn:
                summary.run_id = repo_store.start_run(conn, self.worker_id, started)
            repositories, source_ids = self._discover(summary, started, force=everything)
            known = _KnownRefs(self.engine)
            total = len(repositories)
            done = 0
            with _Pools(self.settings.sync.concurrency) as pools:
                for rescan_only in (False, True):
                    if rescan_only and not summary.orphaned:
                        break  # conflicts can only have been resolved by an entity that went away
                    while True:
                        now = self.clock()
                        with self.engine.begin() as conn:
                            claimed = repo_store.claim_due(
                                conn,
                                self.worker_id,
                                now=now,
                                lease_seconds=self.settings.sync.lease_seconds,
                                limit=self.claim_batch * (8 if everything else 1),
                                source_ids=source_ids,
                                rescan_only=rescan_only,
                                started_before=started if everything else None,
                            )
                        if not claimed:
                            break
                        self._process_batch(claimed, repositories, pools, known, summary)
                        done += len(claimed)
                        if progress:
                            progress(done, max(total, done))
                        if rescan_only:
                            break
            self._finish(summary)
        except Exception as exc:
            summary.result = "failed"
            reason = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            self._release_after_failure()
            self._record_end(summary, t0, message=reason)
            self._run_hooks(summary)
            if isinstance(exc, OperationalError | StoreError):
                raise StoreError(f"the database failed during the pass: {reason}") from None
            raise
        if not everything and summary.repositories == 0 and summary.deleted == 0:
            # The loop found nothing due: an idle poll, not a pass. Recording it would bury the real
            # passes in /api/sync/runs and count a run every few seconds in the metrics.
            self._forget_run(summary)
            return summary
        self._record_end(summary, t0)
        self._run_hooks(summary)
        return summary

    def _forget_run(self, summary: PassSummary) -> None:
        with self.engine.begin() as conn:
            repo_store.delete_run(conn, summary.run_id)
        summary.run_id = 0

    def _release_after_failure(self) -> None:
        """Give back this worker's claims so a failed pass does not hold repositories for a lease."""
        try:
            with self.engine.begin() as conn:
                repo_store.release_all_claims(conn, self.worker_id)
        except (OperationalError, StoreError):
            log.warning("could not release the claims of %s; they lapse with their lease", self.worker_id)

    def _held(self, conn: Connection, ids: Sequence[int]) -> set[int]:
        """Renew this worker's claims and keep only the repositories it still holds."""
        held = repo_store.hold(
            conn, self.worker_id, ids, now=self.clock(), lease_seconds=self.settings.sync.lease_seconds
        )
        if len(held) < len(set(ids)):
            log.warning(
                "%d repositories were taken over by another worker; not writing them", len(set(ids) - held)
            )
        return held

    def _run_hooks(self, summary: PassSummary) -> None:
        """Run what follows a pass (scoring, metrics); a failing hook is logged, never fatal."""
        for hook in self.after_pass:
            try:
                hook(summary)
            except Exception:  # a scoring bug must not stop the catalog from syncing
                log.exception("a hook after sync run %s failed", summary.run_id)

    def _discover(
        self, summary: PassSummary, now: datetime, *, force: bool
    ) -> tuple[dict[tuple[int, str], Repository], list[int]]:
        """List every source's repositories: configured sources each pass when forced, else once per
        sync interval; repositories registered through the API on every pass (one cheap query), so one
        registered a moment ago is read at once."""
        interval = self.settings.sync.interval_seconds
        if force or self._listed is None or time.monotonic() - self._listed_at >= interval:
            self._listed, self._listed_at = self._discover_configured(summary, now), time.monotonic()
        found, source_ids = dict(self._listed[0]), list(self._listed[1])
        self._add_registered(found, source_ids, now)
        return found, source_ids

    def _discover_configured(
        self, summary: PassSummary, now: datetime
    ) -> tuple[dict[tuple[int, str], Repository], list[int]]:
        found: dict[tuple[int, str], Repository] = {}
        source_ids: list[int] = []
        for source, config in zip(self.build_sources(), self.settings.sources, strict=True):
            with self.engine.begin() as conn:
                source_id = repo_store.ensure_source(
                    conn,
                    config.name,
                    config.type,
                    redact(config.url or config.path or config.org or config.group or ""),
                )
            entry: dict[str, Any] = {"name": config.name, "repositories": 0, "error": None}
            try:
                if isinstance(source, SourceError):
                    raise source
                listed = source.discover()
            except SourceError as exc:
                entry["error"] = redact(str(exc))
                with self.engine.begin() as conn:
                    repo_store.record_source_failure(conn, source_id, entry["error"], now)
                summary.sources.append(entry)
                continue
            with self.engine.begin() as conn:
                outcome = repo_store.record_discovery(
                    conn,
                    source_id,
                    [r.info for r in listed],
                    now=now,
                    max_removal_fraction=self.settings.sync.max_removal_fraction,
                )
            entry["repositories"] = len(listed)
            entry["error"] = outcome.refused
            summary.sources.append(entry)
            source_ids.append(source_id)
            for repository in listed:
                found[(source_id, repository.info.key)] = repository
        return found, source_ids

    def _add_registered(
        self, found: dict[tuple[int, str], Repository], source_ids: list[int], now: datetime
    ) -> None:
        """Repositories registered through the API: each a git repository like a ``git`` source's."""
        sync = self.settings.sync
        cache = os.path.join(self.settings.base_dir, sync.cache_dir)
        with self.engine.connect() as conn:
            source_id = conn.execute(
                select(sources_table.c.id).where(sources_table.c.name == REGISTERED_SOURCE)
            ).scalar()
            if source_id is None:
                return
            rows = conn.execute(
                select(
                    repositories_table.c.id,
                    repositories_table.c.key,
                    repositories_table.c.url,
                    repositories_table.c.branch,
                ).where(
                    repositories_table.c.source_id == source_id, repositories_table.c.removed_at.is_(None)
                )
            ).all()
        refused: list[tuple[int, str]] = []
        for row in rows:
            try:
                found[(source_id, row.key)] = GitRepository(
                    row.url, row.branch, cache, sync.allowed_protocols
                )
            except SourceError as exc:
                refused.append((row.id, redact(str(exc))))
        if refused:
            with self.engine.begin() as conn:
                repo_store.record_failures(conn, refused, now, sync.interval_seconds)
        source_ids.append(source_id)

    def _process_batch(
        self,
        claimed: list[repo_store.ClaimedRepository],
        repositories: dict[tuple[int, str], Repository],
        pools: _Pools,
        known: _KnownRefs,
        summary: PassSummary,
    ) -> None:
        interval = self.settings.sync.interval_seconds
        by_id = {c.id: c for c in claimed}
        repo_of: dict[int, Repository] = {}
        unlisted: list[tuple[int, str]] = []
        for c in claimed:
            repository = repositories.get((c.source_id, c.key))
            if repository is not None:
                repo_of[c.id] = repository
            else:
                unlisted.append((c.id, UNLISTED_MESSAGE))
        cheap = all(getattr(r, "tip_is_cheap", False) for r in repo_of.values())
        tips = pools.map_threads(lambda rid: _tip(repo_of[rid]), list(repo_of), inline=cheap)
        unchanged: list[int] = []
        failures: list[tuple[int, str]] = []
        to_scan: list[tuple[int, str]] = []
        for rid, (tip, error) in zip(list(repo_of), tips, strict=True):
            if error is not None or tip is None:
                failures.append((rid, error or "the repository has no commit on its branch"))
            elif tip == by_id[rid].last_commit and not by_id[rid].rescan:
                unchanged.append(rid)
            else:
                to_scan.append((rid, tip))
        failures.extend(unlisted)
        now = self.clock()
        with self.engine.begin() as conn:
            held = self._held(conn, [c.id for c in claimed])
            repo_store.record_unchanged(conn, [rid for rid in unchanged if rid in held], now, interval)
            repo_store.record_failures(conn, [f for f in failures if f[0] in held], now, interval)
            to_scan = [(rid, tip) for rid, tip in to_scan if rid in held]
            previous = repo_store.repository_previous(conn, [rid for rid, _ in to_scan])
        summary.repositories += len(claimed)
        summary.unchanged += len(unchanged)
        summary.errors += len(failures)
        tasks = [
            ScanTask(
                rid,
                repo_of[rid],
                tip,
                repo_of[rid].info.url,
                repo_of[rid].info.branch,
                previous[rid]["blobs"],
                previous[rid]["changed"],
                self.settings.descriptors,
                self.settings.sync.fact_paths,
                now,
            )
            for rid, tip in to_scan
        ]
        group: list[ScanOutcome] = []
        for outcome in pools.scan(tasks):
            group.append(outcome)
            if len(group) >= WRITE_GROUP:
                self._write_group(group, by_id, known, summary)
                group = []
        if group:
            self._write_group(group, by_id, known, summary)

    def _write_group(
        self,
        group: list[ScanOutcome],
        claimed: dict[int, repo_store.ClaimedRepository],
        known: _KnownRefs,
        summary: PassSummary,
    ) -> None:
        failures = [(o.repository_id, o.error or "unreadable") for o in group if o.result is None]
        scanned = [o for o in group if o.result is not None]
        now = self.clock()
        interval = self.settings.sync.interval_seconds
        if failures:
            with self.engine.begin() as conn:
                held = self._held(conn, [rid for rid, _ in failures])
                repo_store.record_failures(conn, [f for f in failures if f[0] in held], now, interval)
            summary.errors += len(failures)
        try:
            self._apply(scanned, known, summary, now)
        except DBAPIError as exc:
            if isinstance(exc, OperationalError) and not isinstance(exc, IntegrityError):
                raise  # the database itself is failing: the pass stops and says so
            # One repository's rows were refused (another worker wrote the same entity meanwhile,
            # or a value the database will not store): redo each repository alone, so only the one
            # at fault fails, and a loser of a race sees the winner's entity as a conflict.
            for outcome in scanned:
                try:
                    self._apply([outcome], known, summary, now)
                except DBAPIError as alone:
                    if isinstance(alone, OperationalError):
                        raise
                    message = RACE_MESSAGE if isinstance(alone, IntegrityError) else _refused(alone)
                    with self.engine.begin() as conn:
                        if outcome.repository_id in self._held(conn, [outcome.repository_id]):
                            repo_store.record_failures(
                                conn, [(outcome.repository_id, message)], now, interval
                            )
                    summary.errors += 1

    def _apply(
        self, scanned: list[ScanOutcome], known: _KnownRefs, summary: PassSummary, now: datetime
    ) -> None:
        if not scanned:
            return
        interval = self.settings.sync.interval_seconds

        def exists(ref: EntityRef) -> bool:
            return ref.key in known or ref.key in batch_keys

        batch_keys: set[str] = set()
        with self.engine.begin() as conn:
            held = self._held(conn, [o.repository_id for o in scanned])
            scanned = [o for o in scanned if o.repository_id in held]
            refs = [
                d.ref
                for o in scanned
                for f in (o.result.files if o.result else [])
                for d in f.documents
                if d.entity is not None and d.ref
            ]
            keys = [_safe_key(r) for r in refs]
            batch_keys = {k for k in keys if k}
            own, others = load_known(conn, [o.repository_id for o in scanned], batch_keys)
            plans: list[Plan] = []
            for outcome in scanned:
                result = outcome.result
                assert result is not None
                plans.append(
                    plan_repository(
                        outcome.repository_id,
                        commit=outcome.commit,
                        repo_url=outcome.url,
                        branch=outcome.branch,
                        files=result.files,
                        descriptor_changed=result.descriptor_changed,
                        facts=result.facts.to_dict(),
                        own=own[outcome.repository_id],
                        others=others,
                        prepared=outcome.prepared,
                        unread=outcome.unread,
                    )
                )
            counts = apply_plans(conn, plans, now=now, interval_seconds=interval, exists=exists)
            repoint_counterparts(
                conn,
                {
                    (w.prepared.entity.namespace, w.prepared.entity.name)
                    for p in plans
                    for w in p.writes
                    if w.prepared.entity.kind.lower() in COUNTERPARTS
                },
            )
        known.update(batch_keys)
        summary.added += counts.added
        summary.updated += counts.updated
        summary.orphaned += counts.orphaned
        summary.changed_entity_ids.extend(counts.changed_ids)
        summary.changed += sum(1 for p in plans if p.changed)
        summary.unchanged += sum(1 for p in plans if not p.changed)
        summary.conflicts += sum(p.conflicts for p in plans)
        summary.descriptor_problems += sum(1 for p in plans for r in p.problems if r.category == "descriptor")

    def _finish(self, summary: PassSummary) -> None:
        sync = self.settings.sync
        if sync.orphan_policy == "delete":
            with self.engine.begin() as conn:
                deleted = repo_store.delete_expired_orphans(conn, self.clock(), sync.orphan_grace_seconds)
                repoint_counterparts(conn, {(ns, name) for kind, ns, name in deleted if kind in COUNTERPARTS})
            summary.deleted = len(deleted)

    def _record_end(self, summary: PassSummary, t0: float, message: str | None = None) -> None:
        summary.duration_seconds = round(time.perf_counter() - t0, 3)
        if not summary.run_id:
            return
        try:
            with self.engine.begin() as conn:
                repo_store.finish_run(
                    conn,
                    summary.run_id,
                    now=self.clock(),
                    result=summary.result,
                    counts=summary.to_dict(),
                    duration=summary.duration_seconds,
                    message=message,
                )
        except (OperationalError, StoreError):
            log.warning("could not record the end of sync run %s", summary.run_id)

    def run_forever(
        self, stop: threading.Event, *, poll_seconds: float = 5.0, wake: threading.Event | None = None
    ) -> None:
        """The worker loop: a pass over what is due, then a short wait; survives database outages.

        ``wake`` cuts the wait short (``POST /api/sync`` in the same process sets it).
        """
        while not stop.is_set():
            try:
                self.run_pass(everything=False)
            except StoreError as exc:
                log.error("sync pass failed: %s", exc)
            except Exception:  # the loop outlives any one bad pass; the error is logged in full
                log.exception("sync pass failed unexpectedly")
            if wake is None:
                stop.wait(poll_seconds)
            else:
                wake.wait(poll_seconds)
                wake.clear()


class _KnownRefs:
    """The ref keys in the catalog, read once per pass and only if something is reconciled.

    Used to resolve a bare owner to a Team or a Group; a hint kept current by this worker's writes.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._keys: set[str] | None = None

    def _load(self) -> set[str]:
        if self._keys is None:
            with self._engine.connect() as conn:
                self._keys = set(conn.execute(select(entities.c.ref_key)).scalars())
        return self._keys

    def __contains__(self, key: object) -> bool:
        return key in self._load()

    def update(self, keys: set[str]) -> None:
        """Remember keys this worker just wrote."""
        self._load().update(keys)


def _refused(exc: DBAPIError) -> str:
    """Why the database refused a repository's rows, without the statement or its parameters."""
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
    return f"the database refused to store this repository's entities: {redact(reason)[:300]}"


def _safe_key(ref: str) -> str | None:
    try:
        return EntityRef.parse(ref).key
    except CatalogSyncError:
        return None


class _Pools:
    """Threads for tip checks (I/O) and processes for scanning (CPU), started lazily, closed once."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = max(1, concurrency)
        self.processes = max(1, min(self.concurrency, os.cpu_count() or 1))
        self._threads: ThreadPoolExecutor | None = None
        self._pool: Any = None

    def __enter__(self) -> _Pools:
        return self

    def __exit__(self, *_: object) -> None:
        if self._threads:
            self._threads.shutdown(wait=True)
        if self._pool is not None:
            self._pool.close()
            self._pool.join()

    def map_threads(self, fn: Callable[[int], Any], items: list[int], *, inline: bool = False) -> list[Any]:
        """Run ``fn`` over ``items`` in threads (or here, when ``inline``), keeping order."""
        if inline or len(items) <= 1 or self.concurrency == 1:
            return [fn(i) for i in items]
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.concurrency, thread_name_prefix="catalog-tip")
        return list(self._threads.map(fn, items))

    def scan(self, tasks: list[ScanTask]) -> Iterator[ScanOutcome]:
        """Scan in worker processes when there is enough work to pay for them, else in this process."""
        if len(tasks) < 8 or self.processes == 1:
            yield from map(scan_repository, tasks)
            return
        if self._pool is None:
            self._pool = multiprocessing.get_context("fork").Pool(self.processes)
        chunk = max(1, min(16, len(tasks) // (self.processes * 4)))
        yield from self._pool.imap_unordered(scan_repository, tasks, chunksize=chunk)
