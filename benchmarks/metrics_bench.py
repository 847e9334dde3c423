"""How long a Prometheus scrape of ``/metrics`` takes at catalog size, on SQLite and PostgreSQL.

Every catalog gauge is computed from the database at scrape time, so the scrape's cost grows with the
catalog; the target is a scrape under 100 ms at 100,000 entities. The benchmark loads a synthetic
catalog (the store benchmark's entities and search rows, plus one repository per five entities, scorecard
results on three scorecards with the summaries the scorer keeps beside them, ownership gaps on about one
entity in ten, descriptor errors, conflicts and a long history of sync passes), then times
``GET /metrics`` through the real app, printing p50, p95 and p99.

    python -m benchmarks.metrics_bench                          # 10,000 and 100,000 entities, SQLite
    python -m benchmarks.metrics_bench --sizes 100000 --postgres  # plus a throwaway PostgreSQL

The exit status is 1 when a scrape's p50 at 100,000 entities or fewer is over the target.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, text

from benchmarks.store_query_bench import load
from catalog_sync.config import parse_settings
from catalog_sync.scoring.summary import SummaryChanges, tenths
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.scoring.summaries import apply_summaries
from catalog_sync.store.tables import (
    entities,
    ownership_gaps,
    problems,
    repositories,
    scorecard_results,
    scorecards,
    sources,
    sync_runs,
)

TARGET_MS = 100.0
BATCH = 5000
SCORECARDS = {
    "product-readiness": (["bronze", "silver", "gold"], {"product", "component"}),
    "security-baseline": (["bronze", "silver", "gold"], {"product", "component", "api"}),
    "operational-readiness": (["bronze", "silver", "gold"], {"product"}),
}
GAP_TYPES = ["missing_owner", "unknown_owner", "individual_owner", "product_without_capability"]
STATES = ["ok"] * 90 + ["failing"] * 5 + ["stale"] * 3 + ["pending"] * 2


def _insert(engine: Engine, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        with engine.begin() as conn:
            conn.execute(insert(table), rows[start : start + BATCH])


def load_catalog(engine: Engine, count: int, seed: int = 5) -> None:
    """Entities and search rows (the store benchmark's), then what scoring and sync would have written."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    load(engine, count, max(1, count // 100))
    with engine.connect() as conn:
        kinds = list(conn.execute(select(entities.c.id, entities.c.kind, entities.c.ref_key)))
    with engine.begin() as conn:
        source_id = conn.execute(
            insert(sources).values(name="fleet", type="local", target="fleet").returning(sources.c.id)
        ).scalar_one()
    _insert(
        engine,
        repositories,
        [
            {"source_id": source_id, "key": f"r{n}", "name": f"r{n}", "url": f"file:///r{n}",
             "state": rng.choice(STATES)}
            for n in range(max(1, count // 5))
        ],
    )  # fmt: skip
    _insert(
        engine,
        scorecards,
        [
            {"name": name, "title": name, "origin": "builtin", "levels": json.dumps(levels),
             "definition": "{}", "digest": "0" * 64, "updated_at": now}
            for name, (levels, _) in SCORECARDS.items()
        ],
    )  # fmt: skip
    checks = json.dumps(
        [{"id": f"check-{n}", "level": "bronze", "passed": n % 2 == 0, "value": n, "message": "m" * 40}
         for n in range(6)]
    )  # fmt: skip
    results = []
    changes = SummaryChanges()
    for entity_id, kind, ref in kinds:
        for name, (levels, applies) in SCORECARDS.items():
            if kind in applies:
                rank = rng.randrange(len(levels) + 1)
                results.append(
                    {"scorecard": name, "entity_id": entity_id, "entity_ref": ref, "kind": kind,
                     "level": levels[rank - 1] if rank else "", "level_rank": rank,
                     "score": round(rng.uniform(0, 100), 1), "checks": checks,
                     "owner": f"group:default/team-{rng.randrange(max(1, count // 100))}",
                     "evaluated_at": now}
                )  # fmt: skip
                last = results[-1]
                changes.add(last["owner"], [(name, last["level"], tenths(last["score"]))])
    _insert(engine, scorecard_results, results)
    with engine.begin() as conn:
        apply_summaries(conn, changes.levels, changes.owners, changes.served)
    gaps = [
        {"type": rng.choice(GAP_TYPES), "entity_id": entity_id, "subject": ref, "entity_ref": ref,
         "kind": kind, "tier": rng.choice(["1", "2", "3", "4", "none"]), "detail": "synthetic"}
        for entity_id, kind, ref in kinds
        if rng.random() < 0.1
    ]  # fmt: skip
    _insert(engine, ownership_gaps, gaps)
    _insert(
        engine,
        problems,
        [
            {"entity_id": entity_id, "category": category, "severity": "error", "message": "synthetic"}
            for entity_id, _, _ in kinds
            for category, share in (("descriptor", 0.01), ("conflict", 0.001))
            if rng.random() < share
        ],
    )
    _insert(
        engine,
        sync_runs,
        [
            {"worker": "w", "started_at": now - timedelta(minutes=5 * n),
             "finished_at": now - timedelta(minutes=5 * n - 1), "result": "ok" if n % 10 else "failed"}
            for n in range(5000, 0, -1)
        ],
    )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def time_scrapes(engine: Engine, runs: int) -> dict[str, float]:
    """Latencies of ``GET /metrics`` through the real app, in milliseconds."""
    from catalog_sync.cli import build_app
    from plugin_api.metrics import blp

    app = build_app(parse_settings({}), engine)
    if blp.name not in app.blueprints:
        app.register_blueprint(blp)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/metrics").status_code == 200
    samples = []
    size = 0
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get("/metrics")
        samples.append((time.perf_counter() - start) * 1000)
        size = len(response.data)
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p95": samples[int(0.95 * (len(samples) - 1))],
        "p99": samples[int(0.99 * (len(samples) - 1))],
        "max": samples[-1],
        "bytes": size,
    }


def bench(url: str, count: int, runs: int) -> dict[str, float]:
    """Load ``count`` entities into the (empty) database at ``url`` and time its scrapes."""
    engine = open_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        load_catalog(engine, count)
        loaded = time.perf_counter() - started
        result = time_scrapes(engine, runs)
    finally:
        engine.dispose()
    met = "yes" if result["p50"] <= TARGET_MS else "NO"
    print(
        f"{engine.dialect.name:<10} {count:>8,} entities  scrape p50 {result['p50']:7.1f} ms  "
        f"p95 {result['p95']:7.1f} ms  p99 {result['p99']:7.1f} ms  max {result['max']:7.1f} ms  "
        f"({int(result['bytes']):,} bytes; "
        f"loaded in {loaded:.0f} s)  target met: {met}",
        flush=True,
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark at each size; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="entity counts, comma-separated")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
    missed = False
    cluster = None
    if args.postgres:
        from tests.fixtures.postgres import DEFAULT_PG_BIN, create_database, start_cluster

        cluster = start_cluster(Path(DEFAULT_PG_BIN))
    try:
        with tempfile.TemporaryDirectory(prefix="catalog-sync-metrics-bench-") as folder:
            for count in sizes:
                urls = [] if args.no_sqlite else [f"sqlite:///{Path(folder) / f'catalog-{count}.db'}"]
                if cluster is not None:
                    urls.append(create_database(cluster, template=None))
                for url in urls:
                    result = bench(url, count, args.runs)
                    missed = missed or (count <= 100_000 and result["p50"] > TARGET_MS)
    finally:
        if cluster is not None:
            cluster.stop()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
