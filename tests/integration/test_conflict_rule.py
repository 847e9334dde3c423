"""Who keeps an entity that two repositories define: the same winner on every run, with any number of
workers, read in any order (``reconcile.CLAIM_RULE``), on SQLite and PostgreSQL.

Six fresh runs once gave a random winner: the repository whose read finished first took the entity.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from catalog_sync.config import Settings, parse_settings
from catalog_sync.sources.base import Repository, Snapshot
from catalog_sync.sources.local import LocalSource
from catalog_sync.store.engine import open_engine
from catalog_sync.store.tables import entities, problems, repositories
from catalog_sync.sync import SyncEngine, batch, workers
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.postgres import create_database, drop_database
from tests.fixtures.snapshots import WrappedRepository, WrappedSource
from tests.fixtures.syncstore import first_local, sync_store
from tests.integration.conftest import product_yaml

CLAIMANTS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]
SHARED = "product:default/shared"


@pytest.fixture
def fresh_engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """A factory of fresh, migrated databases of the parametrised kind (``store_kind``)."""
    made: list[Engine] = []
    kind = request.param

    def make() -> Engine:
        engine: Engine
        if kind == "sqlite":
            path = tmp_path / f"catalog-{len(made)}.db"
            shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
            engine = open_engine(f"sqlite:///{path}")
        else:
            cluster = request.getfixturevalue("postgres_cluster")
            url = create_database(cluster)
            request.addfinalizer(lambda: drop_database(cluster, url))
            engine = open_engine(url)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()


BOTH = pytest.mark.parametrize(
    "fresh_engines", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def build_fleet(root: Path) -> Path:
    """Six repositories that each define their own product and the one they all claim."""
    fleet = root / "fleet"
    for name in CLAIMANTS:
        GitRepo(fleet / name).commit(
            "add", files={"catalog-info.yaml": product_yaml(name) + "---\n" + product_yaml("shared")}
        )
    return fleet


def settings_for(fleet: Path, concurrency: int) -> Settings:
    config = {
        "sources": [{"name": "fleet", "type": "local", "path": str(fleet)}],
        "sync": {"concurrency": concurrency, "lease_seconds": 60},
    }
    return parse_settings(config, "/", environ={})


def holder_and_losers(engine: Engine) -> tuple[str, list[str]]:
    with engine.connect() as conn:
        holder = conn.execute(
            select(repositories.c.name)
            .select_from(entities.join(repositories, entities.c.repository_id == repositories.c.id))
            .where(entities.c.ref_key == SHARED)
        ).scalar_one()
        losers = conn.execute(
            select(repositories.c.name)
            .select_from(problems.join(repositories, problems.c.repository_id == repositories.c.id))
            .where(problems.c.category == "conflict", problems.c.entity_ref == SHARED)
            .order_by(repositories.c.name)
        ).scalars()
        return holder, list(losers)


class SlowRepository(WrappedRepository):
    """Reads the repository after a pause, so the others are written before it."""

    def __init__(self, inner: Repository, pause: float) -> None:
        super().__init__(inner)
        self.pause = pause

    def snapshot(self, commit: str) -> Snapshot:
        time.sleep(self.pause)
        return self.inner.snapshot(commit)


def slow_first(inner: LocalSource) -> WrappedSource:
    """The fleet, with the repository listed first (the rightful winner) read last."""
    return WrappedSource(inner, lambda r: SlowRepository(r, 0.6) if r.info.key == CLAIMANTS[0] else r)


@BOTH
@pytest.mark.parametrize("concurrency", [1, 8])
def test_the_repository_listed_first_wins_on_every_fresh_run(
    fresh_engines: Callable[[], Engine], tmp_path: Path, concurrency: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small write groups, and worker processes even for six scans: reads finish and are written in
    # any order, as in a large fleet.
    monkeypatch.setattr(batch, "WRITE_GROUP", 2)
    monkeypatch.setattr(workers, "INLINE_SCANS", 1)
    fleet = build_fleet(tmp_path)
    outcomes = set()
    for _ in range(3):
        engine = fresh_engines()
        source = slow_first(LocalSource(first_local(settings_for(fleet, concurrency)), "/"))
        SyncEngine(settings_for(fleet, concurrency), sync_store(engine), sources=[source]).run_pass()
        outcomes.add((*holder_and_losers(engine)[:1], tuple(holder_and_losers(engine)[1])))
    assert outcomes == {(CLAIMANTS[0], tuple(CLAIMANTS[1:]))}


def run_concurrently(workers: list[SyncEngine], *, passes: int) -> None:
    """Each worker runs its passes in its own thread, all starting at once."""
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(worker: SyncEngine) -> None:
        try:
            barrier.wait()
            for _ in range(passes):
                worker.run_pass(everything=False)
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors


@BOTH
def test_two_workers_reading_concurrently_agree_on_the_winner(
    fresh_engines: Callable[[], Engine], tmp_path: Path
) -> None:
    fleet = build_fleet(tmp_path)
    settings = settings_for(fleet, 2)
    for _ in range(2):
        engine = fresh_engines()
        workers = [
            SyncEngine(
                settings,
                sync_store(engine),
                worker_id=f"w{i}",
                sources=[slow_first(LocalSource(first_local(settings), "/"))],
                claim_batch=1,
            )
            for i in (1, 2)
        ]
        run_concurrently(workers, passes=len(CLAIMANTS))
        workers[0].run_pass(everything=False)  # a repository that lost the entity is read again
        assert holder_and_losers(engine) == (CLAIMANTS[0], CLAIMANTS[1:])


@BOTH
def test_an_entity_already_in_the_catalog_stays_with_its_repository(
    fresh_engines: Callable[[], Engine], tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet"
    GitRepo(fleet / "alpha").commit("start", files={"README.md": "# alpha\n"})
    GitRepo(fleet / "bravo").commit("add", files={"catalog-info.yaml": product_yaml("shared")})
    engine = fresh_engines()
    sync = SyncEngine(settings_for(fleet, 1), sync_store(engine))
    sync.run_pass()

    GitRepo(fleet / "alpha").commit("claim", files={"catalog-info.yaml": product_yaml("shared")})
    sync.run_pass()

    assert holder_and_losers(engine) == ("bravo", ["alpha"])


@BOTH
def test_an_orphan_claimed_by_two_repositories_in_one_pass_goes_by_the_rule_not_by_read_order(
    fresh_engines: Callable[[], Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The repository that held ``shared`` drops it while two others add it: whichever is read first
    takes the orphan, and the one the catalog learned of first still ends up with it."""
    monkeypatch.setattr(batch, "WRITE_GROUP", 1)
    monkeypatch.setattr(workers, "INLINE_SCANS", 1)
    fleet = tmp_path / "fleet"
    holder = GitRepo(fleet / "a-holder")
    holder.commit(
        "add", files={"catalog-info.yaml": product_yaml("a-holder") + "---\n" + product_yaml("shared")}
    )
    for name in ("bravo", "charlie"):
        GitRepo(fleet / name).commit("add", files={"catalog-info.yaml": product_yaml(name)})
    settings = settings_for(fleet, 8)
    engine = fresh_engines()
    SyncEngine(settings, sync_store(engine), sources=[LocalSource(first_local(settings), "/")]).run_pass()

    holder.commit("drop shared", files={"catalog-info.yaml": product_yaml("a-holder")})
    for name in ("bravo", "charlie"):
        GitRepo(fleet / name).commit(
            "claim", files={"catalog-info.yaml": product_yaml(name) + "---\n" + product_yaml("shared")}
        )
    bravo_last = WrappedSource(
        LocalSource(first_local(settings), "/"),
        lambda r: SlowRepository(r, 0.8) if r.info.key == "bravo" else r,
    )
    SyncEngine(settings, sync_store(engine), sources=[bravo_last]).run_pass()

    assert holder_and_losers(engine) == ("bravo", ["charlie"])
