"""The CPU one wake-up pass of a worker spends in Python when a push made a few repositories due.

Under a burst of webhook deliveries the worker is woken after each one and runs a pass that finds a
handful of repositories due; those passes compete with the API for the machine's cores. This
benchmark measures what such a pass costs the worker's process in the store's bookkeeping and the
re-score hook, on a fleet of registered repositories in SQLite and in a throwaway PostgreSQL:

    python -m benchmarks.worker_pass_bench                         # 10,000 repositories, 200 passes
    python -m benchmarks.worker_pass_bench --skip-postgres --passes 50

Each pass runs the store operations a wake-up pass runs for repositories a push named at a commit
already read (so no scan, which would measure git instead): start the run, claim the due ones, renew
the claims, record them unchanged, settle their pushes, finish the run, then re-score (nothing
changed). The claim runs twice, as the pass's loop claims until nothing is left. Before each pass
``--due`` repositories are made due by a push; that write is not timed. Printed: the process CPU
(``time.process_time``) per pass, median and 90th percentile, in ms, split into the store's part and
the re-score's.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, update

from catalog_sync.config import parse_settings
from catalog_sync.scoring.scorer import Scorer
from catalog_sync.store.base import Database
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.scoring.store import SqlScoringStore
from catalog_sync.store.sync_sql import SqlSyncStore
from catalog_sync.store.tables import repositories, sources
from tests.fixtures.postgres import DEFAULT_PG_BIN, create_database, start_cluster

WORKER = "bench-worker"
LEASE = 300
INTERVAL = 3600


def fill(database: Database, size: int, now: datetime) -> list[int]:
    """A registered source with ``size`` repositories, all read at commit ``c<id>`` and not due."""
    with database.engine.begin() as conn:
        source_id = conn.execute(
            insert(sources).values(name="registered", type="registered", target="").returning(sources.c.id)
        ).scalar_one()
        rows = [
            {
                "source_id": source_id,
                "key": f"github.com/org/svc-{n:05d}",
                "name": f"svc-{n:05d}",
                "url": f"https://github.com/org/svc-{n:05d}.git",
                "branch": "main",
                "state": "ok",
                "last_commit": f"{n:040x}",
                "last_sync_at": now,
                "last_success_at": now,
                "next_sync_at": now + timedelta(hours=1),
                "failures": 0,
                "rescan": False,
            }
            for n in range(size)
        ]
        conn.execute(insert(repositories), rows)
    return [int(source_id)]


def push(database: Database, first: int, count: int, now: datetime) -> None:
    """A push named ``count`` repositories at the commit they were read at: they are due now."""
    with database.engine.begin() as conn:
        conn.execute(
            update(repositories)
            .where(repositories.c.id.between(first, first + count - 1))
            .values(next_sync_at=now, pushed_commit=repositories.c.last_commit, pushed_at=now)
        )


def one_pass(store: SqlSyncStore, source_ids: list[int], now: datetime) -> int:
    """The store's part of a wake-up pass over repositories whose tip did not move."""
    run_id = store.start_run(WORKER, now)
    with store.transaction() as tx:
        claimed = store.claim_due(tx, WORKER, now=now, lease_seconds=LEASE, limit=256, source_ids=source_ids)
    tips = {c.id: c.pushed_commit or c.last_commit or "" for c in claimed}
    with store.transaction() as tx:
        held = store.hold(tx, WORKER, list(tips), now=now, lease_seconds=LEASE)
        unchanged = [rid for rid in tips if rid in held]
        store.record_unchanged(tx, unchanged, now, INTERVAL)
        store.settle_pushes(tx, [(rid, tips[rid]) for rid in unchanged], now)
    with store.transaction() as tx:  # as the pass's loop does: claim until nothing is left
        assert not store.claim_due(tx, WORKER, now=now, lease_seconds=LEASE, limit=256, source_ids=source_ids)
    counts = {"repositories": len(claimed), "unchanged": len(unchanged)}
    store.finish_run(run_id, now=now, result="ok", counts=counts, duration=0.0)
    return len(unchanged)


def measure(url: str, size: int, due: int, passes: int) -> dict[str, float]:
    """Median and p90 CPU ms per pass, store and re-score, on the database at ``url``."""
    engine = open_engine(url)
    upgrade(engine)
    database = Database(engine)
    settings = parse_settings({}, environ={})
    now = datetime.now(UTC)
    source_ids = fill(database, size, now)
    store = SqlSyncStore(database)
    scorer = Scorer(settings, SqlScoringStore(database))
    scorer.rescore(None)
    store_ms: list[float] = []
    score_ms: list[float] = []
    for index in range(passes):
        now += timedelta(seconds=1)
        push(database, 1 + (index * due) % (size - due), due, now)
        started = time.process_time()
        done = one_pass(store, source_ids, now)
        middle = time.process_time()
        scorer.rescore([])
        ended = time.process_time()
        if done != due:
            raise SystemExit(f"pass {index} recorded {done} repositories, expected {due}")
        store_ms.append((middle - started) * 1000)
        score_ms.append((ended - middle) * 1000)
    engine.dispose()
    total = [a + b for a, b in zip(store_ms, score_ms, strict=True)]
    return {
        "store_median": statistics.median(store_ms),
        "rescore_median": statistics.median(score_ms),
        "total_median": statistics.median(total),
        "total_p90": statistics.quantiles(total, n=10)[-1],
    }


@contextmanager
def postgres(bin_dir: str) -> Iterator[str]:
    """A throwaway cluster (as the tests start one) and an empty database on it."""
    cluster = start_cluster(Path(bin_dir))
    try:
        yield create_database(cluster, template=None)
    finally:
        cluster.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the measurement on SQLite and PostgreSQL and print a line for each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=10)
    parser.add_argument("--passes", type=int, default=200)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--pg-bin", default=DEFAULT_PG_BIN)
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/catalog.db"
            results["sqlite"] = measure(url, args.size, args.due, args.passes)
    if not args.skip_postgres:
        with postgres(args.pg_bin) as url:
            results["postgresql"] = measure(url, args.size, args.due, args.passes)
    print(f"{args.passes} passes, {args.due} due of {args.size} repositories; CPU ms per pass")
    print(f"{'database':<12}{'store p50':>11}{'rescore p50':>13}{'total p50':>11}{'total p90':>11}")
    for name, figures in results.items():
        print(
            f"{name:<12}{figures['store_median']:>11.2f}{figures['rescore_median']:>13.2f}"
            f"{figures['total_median']:>11.2f}{figures['total_p90']:>11.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
