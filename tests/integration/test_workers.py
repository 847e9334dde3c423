"""Many workers on one PostgreSQL: no repository is processed twice at once, dead claims lapse."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from benchmarks.fleet import generate_fleet
from catalog_sync.config import Settings, parse_settings
from catalog_sync.errors import SourceError
from catalog_sync.sources.base import Repository, Snapshot
from catalog_sync.sources.local import LocalSource
from catalog_sync.store import repos as repo_store
from catalog_sync.store.tables import entities, repositories, sources
from catalog_sync.sync import SyncEngine, utcnow
from catalog_sync.sync.summary import Clock
from tests.fixtures.snapshots import WrappedRepository, WrappedSource
from tests.fixtures.syncstore import first_local, sync_store

pytestmark = pytest.mark.postgres


@dataclass
class Ledger:
    """Who read which repository, and when: the evidence that no two workers overlapped."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    reads: list[tuple[str, str, float, float]] = field(default_factory=list)


class RecordingRepository(WrappedRepository):
    """A repository that notes each read in the ledger; slow enough that overlaps would show."""

    def __init__(self, inner: Repository, worker: str, ledger: Ledger) -> None:
        super().__init__(inner)
        self.worker, self.ledger = worker, ledger

    def snapshot(self, commit: str) -> Snapshot:
        start = time.monotonic()
        time.sleep(0.005)
        snapshot = self.inner.snapshot(commit)
        with self.ledger.lock:
            self.ledger.reads.append((self.worker, self.info.key, start, time.monotonic()))
        return snapshot


def _settings(fleet: Path) -> Settings:
    return parse_settings(
        {
            "sources": [{"name": "fleet", "type": "local", "path": str(fleet)}],
            "sync": {"concurrency": 1, "lease_seconds": 60},
        },
        "/",
        environ={},
    )


def test_two_workers_share_due_repositories_without_overlap(pg_engine: Engine, tmp_path: Path) -> None:
    fleet = generate_fleet(tmp_path / "fleet", 60, seed=3)
    settings = _settings(fleet.root)
    ledger = Ledger()
    engines = []
    for worker in ("w1", "w2"):
        source = WrappedSource(
            LocalSource(first_local(settings), "/"),
            partial(RecordingRepository, worker=worker, ledger=ledger),
        )
        engines.append(
            SyncEngine(settings, sync_store(pg_engine), worker_id=worker, sources=[source], claim_batch=4)
        )
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(engine: SyncEngine) -> None:
        try:
            barrier.wait()
            engine.run_pass(everything=False)
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    keys = [key for _, key, _, _ in ledger.reads]
    assert len(keys) == fleet.repositories
    assert len(set(keys)) == fleet.repositories, "a repository was read twice"
    assert {w for w, _, _, _ in ledger.reads} == {"w1", "w2"}, "both workers should have taken a share"
    with pg_engine.connect() as conn:
        stored = conn.execute(select(entities.c.ref_key)).scalars().all()
    assert len(stored) == fleet.products + fleet.teams + fleet.capabilities


def test_a_dead_workers_claims_lapse(pg_engine: Engine, tmp_path: Path) -> None:
    fleet = generate_fleet(tmp_path / "fleet", 5, seed=4)
    engine = SyncEngine(_settings(fleet.root), sync_store(pg_engine), worker_id="survivor")
    engine.run_pass(everything=False)
    now = datetime.now(UTC)
    with pg_engine.begin() as conn:
        source_id = conn.execute(select(sources.c.id)).scalar_one()
        conn.execute(repositories.update().values(next_sync_at=now))
        dead = repo_store.claim_due(
            conn, "dead-worker", now=now, lease_seconds=1, limit=100, source_ids=[source_id]
        )
    assert len(dead) == fleet.repositories
    with pg_engine.begin() as conn:
        held = repo_store.claim_due(
            conn, "survivor", now=now, lease_seconds=60, limit=100, source_ids=[source_id]
        )
    assert held == []
    time.sleep(1.1)
    with pg_engine.begin() as conn:
        taken = repo_store.claim_due(
            conn, "survivor", now=datetime.now(UTC), lease_seconds=60, limit=100, source_ids=[source_id]
        )
    assert len(taken) == fleet.repositories


class HostListing(WrappedSource):
    """A local source listed as a hosting API lists it: a repository goes after two listings that miss
    it; ``hidden`` repositories (by name) are missing from the list; ``beside`` runs once while
    the listing runs (another worker's pass recording its own listing of the source meanwhile)."""

    removal_listings = 2

    def __init__(self, inner: LocalSource) -> None:
        super().__init__(inner, lambda repository: repository)
        self.hidden: set[str] = set()
        self.beside: Callable[[], object] | None = None
        self.failing = False

    def discover(self) -> list[Repository]:
        if self.failing:
            raise SourceError("the host answered 502 to the listing")
        listed = [r for r in super().discover() if r.info.name not in self.hidden]
        beside, self.beside = self.beside, None
        if beside is not None:
            beside()
        return listed


@dataclass
class TwoListers:
    """Two workers listing one source, after a first pass, and the repository deleted on the host since."""

    first: SyncEngine
    second: SyncEngine
    listings: list[HostListing]
    gone: str


def skewed(by: timedelta) -> Clock:
    """The clock of a host whose time is off by ``by`` from the others'."""
    return lambda: utcnow() + by


def two_listers(pg_engine: Engine, tmp_path: Path, seed: int, second_clock: Clock = utcnow) -> TwoListers:
    """The second worker reads the time from ``second_clock``: its host's clock may differ."""
    fleet = generate_fleet(tmp_path / "fleet", 4, seed=seed)
    settings = _settings(fleet.root)
    listings = [HostListing(LocalSource(first_local(settings), "/")) for _ in ("w1", "w2")]
    first, second = (
        SyncEngine(settings, sync_store(pg_engine), worker_id=w, sources=[s], clock=c)
        for w, s, c in zip(("w1", "w2"), listings, (utcnow, second_clock), strict=True)
    )
    first.run_pass(everything=True)
    with pg_engine.connect() as conn:
        gone = conn.execute(select(repositories.c.name).order_by(repositories.c.id)).scalars().first()
    assert gone is not None
    for listing in listings:
        listing.hidden.add(gone)  # deleted on the host, so every listing from now on misses it
    return TwoListers(first, second, listings, gone)


@pytest.mark.parametrize(
    "second_ahead",
    [timedelta(0), timedelta(hours=1)],
    ids=["same-clocks", "second-host-clock-an-hour-ahead"],
)
def test_two_workers_listing_at_once_count_one_missed_listing(
    pg_engine: Engine, tmp_path: Path, second_ahead: timedelta
) -> None:
    # With its clock ahead by more than a listing lasts, w2's start reads later than w1's recording
    # meanwhile: only comparing what is stored, not the two hosts' clocks, sees that recording.
    two = two_listers(pg_engine, tmp_path, seed=5, second_clock=skewed(second_ahead))
    first, second, listings, gone = two.first, two.second, two.listings, two.gone

    listings[1].beside = lambda: first.run_pass(everything=True)  # w1 lists and records during w2's listing
    second.run_pass(everything=True)

    with pg_engine.connect() as conn:
        row = conn.execute(select(repositories).where(repositories.c.name == gone)).one()
    assert (row.missed_listings, row.removed_at) == (1, None)  # two listings at one moment count once
    first.run_pass(everything=True)  # a listing at another moment
    with pg_engine.connect() as conn:
        assert conn.execute(select(repositories.c.removed_at).where(repositories.c.name == gone)).scalar()


def test_a_listing_that_failed_meanwhile_does_not_stop_a_complete_one_counting(
    pg_engine: Engine, tmp_path: Path
) -> None:
    two = two_listers(pg_engine, tmp_path, seed=6)
    first, second, listings, gone = two.first, two.second, two.listings, two.gone
    listings[0].failing = True  # w1 cannot list (a host error): its pass records a failure, no listing

    listings[1].beside = lambda: first.run_pass(everything=True)  # w1 fails while w2 lists
    second.run_pass(everything=True)

    with pg_engine.connect() as conn:
        row = conn.execute(select(repositories).where(repositories.c.name == gone)).one()
    assert (row.missed_listings, row.removed_at) == (1, None)  # w2's complete listing counts


def test_a_worker_whose_clock_runs_behind_counts_a_listing_that_ran_alone(
    pg_engine: Engine, tmp_path: Path
) -> None:
    two = two_listers(pg_engine, tmp_path, seed=7, second_clock=skewed(-timedelta(hours=1)))
    first, second, gone = two.first, two.second, two.gone

    first.run_pass(everything=True)  # w1 misses it: one missed listing, recorded with w1's clock
    second.run_pass(everything=True)  # then w2, alone, its host's clock an hour behind w1's recording

    with pg_engine.connect() as conn:
        assert conn.execute(select(repositories.c.removed_at).where(repositories.c.name == gone)).scalar()
