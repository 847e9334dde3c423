"""Latency of the HTTP API's hottest requests at fleet size, through the whole Flask stack.

Loads a synthetic catalog (10,000 and 100,000 entities by default, owners spread over one team per
hundred entities, written in bulk by ``benchmarks.store_query_bench.load``) and times, through the Flask
test client (routing, hooks, auth, parsing, the store, JSON), the requests a portal sends most:

- filtered: ``GET /api/catalog/entities/by-query?filter=spec.owner=<team>&limit=20``
  (target at 100,000: p50 <= 5 ms, p99 <= 20 ms)
- by-name: ``GET /api/catalog/entities/by-name/component/default/<name>`` (target: p99 <= 5 ms)
- facets: ``GET /api/catalog/entity-facets?facet=spec.lifecycle&facet=spec.type&filter=spec.owner=<team>``
  (target: p99 <= 10 ms)
- facets-broad: the pickers a portal shows on every page view, over the whole catalog
  (``facet=kind``, ``facet=spec.lifecycle&filter=kind=component``, ...), asked again and again; with
  the API's default ``api.facet_cache_seconds`` (5 s) each is computed once per 5 s and served from
  the cache in between (target: p99 <= 10 ms). ``store_query_bench`` times them uncached.

The app is built with the default settings, as ``catalog-sync serve`` builds it. Timings depend on
how busy the machine is, so the load average is printed (and written) with them.

    python -m benchmarks.api_bench                                   # SQLite, 10,000 and 100,000
    python -m benchmarks.api_bench --sizes 10000 --runs 200
    python -m benchmarks.api_bench --postgres postgresql+psycopg://u@host/db   # also there (tables DROPPED)
    python -m benchmarks.api_bench --throwaway-postgres               # also on a PostgreSQL started for it

Exits 1 when a target is missed at 100,000 entities, so CI can gate on it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine

from benchmarks.store_query_bench import load
from catalog_sync.cli import build_app
from catalog_sync.config import parse_settings
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.tables import metadata

TARGET_SIZE = 100_000
TARGETS_MS: dict[str, dict[str, float]] = {
    "filtered": {"p50": 5.0, "p99": 20.0},
    "by-name": {"p99": 5.0},
    "facets": {"p99": 10.0},
    "facets-broad": {"p99": 10.0},
}
PORTAL_PICKERS = (
    "facet=kind",
    "facet=spec.lifecycle&filter=kind=component",
    "facet=spec.type&filter=kind=component",
    "facet=metadata.tags",
    "facet=spec.lifecycle&facet=spec.type",
)


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of latencies in milliseconds."""
    ordered = sorted(samples)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[int(0.95 * (len(ordered) - 1))],
        "p99": ordered[int(0.99 * (len(ordered) - 1))],
    }


def time_requests(client: FlaskClient, urls: Sequence[str], warmup: int = 20) -> dict[str, float]:
    """GET each URL (after a warm-up), refusing any answer but 200, and give the percentiles.

    Beside wall-clock latency (``p50``...), the CPU time this process spent (``cpu_p50``...) is
    given: on a busy machine a request can wait for a CPU far longer than it runs, and the CPU
    figures tell that wait from the cost of the request itself (on SQLite, all of it is in-process).
    """
    for url in urls[:warmup]:
        client.get(url)
    wall, cpu = [], []
    for url in urls:
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        if response.status_code != 200:
            raise SystemExit(
                f"{url} answered {response.status_code}: {response.get_data(as_text=True)[:300]}"
            )
    figures = percentiles(wall)
    figures.update({f"cpu_{key}": value for key, value in percentiles(cpu).items()})
    return figures


def scenarios(count: int, runs: int, seed: int = 11) -> dict[str, list[str]]:
    """The URLs of each scenario, drawn reproducibly over the synthetic catalog's teams and names.

    The generator cycles through kinds by index, the first 40 of every hundred being components.
    """
    teams = max(1, count // 100)
    rng = random.Random(seed)
    owners = [f"team-{rng.randrange(teams)}" for _ in range(runs)]
    names = [
        f"component-{rng.randrange(max(1, count // 100)) * 100 + rng.randrange(40):06d}" for _ in range(runs)
    ]
    base = "/api/catalog"
    return {
        "filtered": [f"{base}/entities/by-query?filter=spec.owner={owner}&limit=20" for owner in owners],
        "by-name": [f"{base}/entities/by-name/component/default/{name}" for name in names],
        "facets": [
            f"{base}/entity-facets?facet=spec.lifecycle&facet=spec.type&filter=spec.owner={owner}"
            for owner in owners
        ],
        "facets-broad": [
            f"{base}/entity-facets?{PORTAL_PICKERS[index % len(PORTAL_PICKERS)]}" for index in range(runs)
        ],
    }


def bench_engine(engine: Engine, count: int, runs: int) -> dict[str, dict[str, float]]:
    """Load ``count`` entities into an empty database and time every scenario through the app."""
    start = time.perf_counter()
    upgrade(engine)
    load(engine, count, max(1, count // 100))
    print(
        f"{engine.dialect.name}: loaded {count} entities in {time.perf_counter() - start:.1f} s", flush=True
    )
    client = build_app(parse_settings({}), engine).test_client()
    results = {}
    for name, urls in scenarios(count, runs).items():
        results[name] = time_requests(client, urls)
        results[name]["load_average_1m"] = os.getloadavg()[0]
        wall = "  ".join(f"{key} {results[name][key]:7.2f}" for key in ("p50", "p95", "p99"))
        cpu = " ".join(f"{results[name]['cpu_' + key]:6.2f}" for key in ("p50", "p95", "p99"))
        load_1m = results[name]["load_average_1m"]
        print(f"  {name:<12} {wall} ms   (cpu {cpu} ms; load {load_1m:.2f})", flush=True)
    return results


def missed_targets(results: dict[str, dict[str, float]]) -> list[str]:
    """Which targets a run at ``TARGET_SIZE`` missed, as readable lines."""
    missed = []
    for scenario, limits in TARGETS_MS.items():
        for percentile, limit in limits.items():
            value = results[scenario][percentile]
            if value > limit:
                missed.append(f"{scenario} {percentile} {value:.2f} ms > {limit} ms")
    return missed


def _drop_all(engine: Engine) -> None:
    """Empty a PostgreSQL database given for the benchmark (its catalog tables are dropped)."""
    with engine.begin() as connection:
        metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on SQLite (and PostgreSQL when asked); exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, TARGET_SIZE])
    parser.add_argument("--runs", type=int, default=300, help="requests per scenario (default 300)")
    parser.add_argument(
        "--postgres", metavar="URL", help="also run on this PostgreSQL database (tables DROPPED)"
    )
    parser.add_argument(
        "--throwaway-postgres",
        action="store_true",
        help="also run on a PostgreSQL started for the run (needs the server binaries, see tests/fixtures)",
    )
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        postgres = args.postgres or (
            stack.enter_context(_throwaway_postgres()) if args.throwaway_postgres else None
        )
        report, missed = _run_all(args.sizes, args.runs, postgres)
    report["load_average"] = list(os.getloadavg())
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    for line in missed:
        print(f"target missed: {line}", file=sys.stderr)
    return 1 if missed else 0


def _run_all(sizes: Sequence[int], runs: int, postgres: str | None) -> tuple[dict[str, Any], list[str]]:
    """Every size on SQLite, then on PostgreSQL when given; the figures and the targets missed."""
    report: dict[str, Any] = {}
    missed: list[str] = []
    databases: list[tuple[str, Callable[[int, str], str]]] = [
        ("sqlite", lambda size, folder: f"sqlite:///{Path(folder) / f'catalog-{size}.db'}")
    ]
    if postgres:
        databases.append(("postgresql", lambda size, folder: postgres))
    with tempfile.TemporaryDirectory(prefix="catalog-sync-api-bench-") as folder:
        for label, url_for in databases:
            for size in sizes:
                engine = open_engine(url_for(size, folder))
                if label == "postgresql":
                    _drop_all(engine)
                results = bench_engine(engine, size, runs)
                engine.dispose()
                report[f"{label}-{size}"] = results
                if size == TARGET_SIZE:
                    missed.extend(f"{label}: {line}" for line in missed_targets(results))
    return report, missed


@contextmanager
def _throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL cluster of the test fixtures' kind, for this run only; yields an empty database."""
    from tests.fixtures.postgres import DEFAULT_PG_BIN, PG_BIN_ENV, create_database, start_cluster

    cluster = start_cluster(Path(os.environ.get(PG_BIN_ENV, DEFAULT_PG_BIN)))
    try:
        yield create_database(cluster, template=None)
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
