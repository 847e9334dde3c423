"""Timings of the catalog's read queries at fleet size, on SQLite and PostgreSQL.

Loads a synthetic catalog (100,000 entities by default, about 30 search rows each, owners spread
over 1,000 teams) into a fresh database, then times the queries the API runs most, printing p50,
p95 and p99 in milliseconds. The targets the API must meet at 100,000 entities: an owner-filtered
by-query page of 20 at p50 <= 5 ms and p99 <= 20 ms, by-name at p99 <= 5 ms, facets at p99 <= 10 ms.

    python -m benchmarks.store_query_bench                       # SQLite in a temporary folder
    python -m benchmarks.store_query_bench --postgres             # plus a throwaway PostgreSQL
    python -m benchmarks.store_query_bench --url postgresql://...  # an existing, empty database
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text

from catalog_sync.store.engine import open_engine
from catalog_sync.store.filters import FullText, OrderField, parse_filters
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.queries import CatalogReader
from catalog_sync.store.search import build_search_rows
from catalog_sync.store.tables import entities, relations, search

KINDS = [("Component", 40), ("Product", 30), ("API", 10), ("Resource", 10), ("System", 5), ("Group", 5)]
LIFECYCLES = ["experimental", "production", "deprecated", "retired"]
TYPES = ["service", "website", "library", "data-product", "platform", "automation"]
TAGS = ["java", "python", "go", "pci", "gdpr", "frontend", "backend", "data", "ml", "batch"]
BATCH = 2000


def generate(count: int, teams: int, seed: int = 7) -> Iterator[tuple[dict[str, Any], list[tuple[str, str]]]]:
    """Yield ``(envelope, outgoing relations)`` for a reproducible synthetic fleet."""
    rng = random.Random(seed)
    kinds = [kind for kind, weight in KINDS for _ in range(weight)]
    for index in range(count):
        kind = kinds[index % len(kinds)]
        owner = f"team-{rng.randrange(teams)}"
        name = f"{kind.lower()}-{index:06d}"
        body = {
            "apiVersion": "catalog/v1" if kind == "Product" else "backstage.io/v1alpha1",
            "kind": kind,
            "metadata": {
                "name": name,
                "title": f"{kind} number {index}",
                "description": f"Synthetic {kind.lower()} {index} for the store benchmark.",
                "tags": rng.sample(TAGS, 3),
                "annotations": {
                    "backstage.io/managed-by-location": f"url:https://git.example.com/r{index // 5}",
                    "github.com/project-slug": f"acme/r{index // 5}",
                },
            },
            "spec": {
                "type": rng.choice(TYPES),
                "lifecycle": rng.choice(LIFECYCLES),
                "owner": owner,
                "tier": rng.randint(1, 4),
                "capabilities": [f"capability:cap-{rng.randrange(200)}"],
                "kpis": [{"name": "lead-time", "category": "speed-to-market", "target": "1d"}],
            },
        }
        yield body, [("ownedBy", f"group:default/{owner}")]


def load(engine: Engine, count: int, teams: int) -> None:
    """Insert the synthetic fleet in batches, then refresh the planner's statistics."""
    now = datetime.now(UTC)
    next_id = 1
    batch: list[tuple[dict[str, Any], list[tuple[str, str]]]] = []

    def flush() -> None:
        nonlocal next_id
        entity_rows: list[dict[str, Any]] = []
        search_rows: list[dict[str, Any]] = []
        relation_rows: list[dict[str, Any]] = []
        for body, edges in batch:
            entity_id = next_id
            next_id += 1
            meta = body["metadata"]
            ref_key = f"{body['kind'].lower()}:default/{meta['name']}"
            encoded = json.dumps(body, separators=(",", ":"))
            entity_rows.append(
                {
                    "id": entity_id,
                    "uid": str(uuid.uuid4()),
                    "ref_key": ref_key,
                    "kind": body["kind"].lower(),
                    "namespace": "default",
                    "name": meta["name"],
                    "body": encoded,
                    "content_hash": "x" * 64,
                    "etag": uuid.uuid4().hex,
                    "search_text": f"{meta['name']} {meta['title']} {meta['description']}".lower(),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            search_rows.extend(
                {"entity_id": entity_id, "key": key, "value": value, "original_value": original}
                for key, value, original in build_search_rows(body)
            )
            for kind, target in edges:
                relation_rows.append(
                    {
                        "originating_entity_id": entity_id,
                        "source_key": ref_key,
                        "type": kind,
                        "target_key": target,
                    }
                )
                relation_rows.append(
                    {
                        "originating_entity_id": entity_id,
                        "source_key": target,
                        "type": "ownerOf",
                        "target_key": ref_key,
                    }
                )
        with engine.begin() as connection:
            connection.execute(insert(entities), entity_rows)
            connection.execute(insert(search), search_rows)
            connection.execute(insert(relations), relation_rows)
        batch.clear()

    for item in generate(count, teams):
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    # Steady state: statistics gathered, and on PostgreSQL the visibility map set (autovacuum's job),
    # so index-only scans need not visit the table.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("VACUUM ANALYZE"))
        else:
            connection.execute(text("ANALYZE"))
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def timed(label: str, runs: int, action: Callable[[int], object]) -> dict[str, float]:
    """Run ``action`` ``runs`` times (after a short warm-up) and print its latency percentiles."""
    for index in range(min(20, runs)):
        action(index)
    samples = []
    for index in range(runs):
        start = time.perf_counter()
        action(index)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    result = {
        "p50": statistics.median(samples),
        "p95": samples[int(0.95 * (len(samples) - 1))],
        "p99": samples[int(0.99 * (len(samples) - 1))],
    }
    print(f"  {label:<58} p50 {result['p50']:7.2f}  p95 {result['p95']:7.2f}  p99 {result['p99']:7.2f} ms")
    return result


def run(engine: Engine, count: int, runs: int, reuse: bool = False) -> None:
    """Load the fleet into ``engine`` (unless reusing an earlier load) and time the API's queries on it."""
    teams = max(1, count // 100)
    start = time.perf_counter()
    upgrade(engine)
    with engine.connect() as connection:
        present = connection.execute(text("SELECT count(*) FROM entities")).scalar_one()
    if reuse and present == count:
        print(f"{engine.dialect.name}: reusing {count} entities")
    else:
        load(engine, count, teams)
        print(f"{engine.dialect.name}: loaded {count} entities in {time.perf_counter() - start:.1f} s")
    reader = CatalogReader(engine)
    rng = random.Random(11)
    owners = [f"team-{rng.randrange(teams)}" for _ in range(runs + 20)]
    names = [f"component-{rng.randrange(count // 10) * 10:06d}" for _ in range(runs + 20)]

    def owner_filter(index: int) -> Any:
        return parse_filters([f"spec.owner={owners[index]}"])

    timed(
        "by-query spec.owner=X, limit 20 (first page, with total)",
        runs,
        lambda i: reader.query_entities(owner_filter(i), limit=20),
    )
    cursors = [reader.query_entities(owner_filter(i), limit=20).next_cursor for i in range(runs + 20)]
    timed(
        "by-query spec.owner=X, limit 20 (next page by cursor)",
        runs,
        lambda i: reader.query_entities(cursor=cursors[i], limit=20) if cursors[i] else None,
    )
    timed(
        "by-query kind=component,spec.owner=X order metadata.name",
        runs,
        lambda i: reader.query_entities(
            parse_filters([f"kind=component,spec.owner={owners[i]}"]),
            order=[OrderField("metadata.name")],
            limit=20,
        ),
    )
    timed(
        "by-query relations.ownedBy=group:default/X, limit 20",
        runs,
        lambda i: reader.query_entities(
            parse_filters([f"relations.ownedBy=group:default/{owners[i]}"]), limit=20
        ),
    )
    timed(
        "by-query kind=component, limit 20 (broad filter)",
        runs,
        lambda i: reader.query_entities(parse_filters(["kind=component"]), limit=20),
    )
    timed(
        "by-query no filter, order metadata.name desc, limit 20",
        max(20, runs // 10),
        lambda i: reader.query_entities(order=[OrderField("metadata.name", "desc")], limit=20),
    )
    timed(
        "by-query full text 'number 4242', limit 20",
        max(20, runs // 10),
        lambda i: reader.query_entities(full_text=FullText("number 4242"), limit=20),
    )
    timed("by-name get_by_ref", runs, lambda i: reader.get_by_ref(f"component:default/{names[i]}"))
    timed(
        "facets spec.lifecycle,spec.type with spec.owner=X",
        runs,
        lambda i: reader.facets(["spec.lifecycle", "spec.type"], owner_filter(i)),
    )
    timed("facets kind (whole catalog)", max(20, runs // 10), lambda i: reader.facets(["kind"]))
    timed(
        "facets spec.lifecycle with kind=component",
        max(20, runs // 10),
        lambda i: reader.facets(["spec.lifecycle"], parse_filters(["kind=component"])),
    )
    cached = CatalogReader(engine, facet_cache_seconds=5)
    timed(
        "facets spec.lifecycle with kind=component, 5 s cache",
        runs,
        lambda i: cached.facets(["spec.lifecycle"], parse_filters(["kind=component"])),
    )


def main() -> None:
    """Parse the command line and run the benchmark on each database asked for."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--url", action="append", default=[], help="an empty database to use (repeatable)")
    parser.add_argument("--postgres", action="store_true", help="also start a throwaway PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--reuse", action="store_true", help="keep the data a --url database already holds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="catalog-sync-bench-") as folder:
        urls = list(args.url)
        if not args.no_sqlite:
            urls.insert(0, f"sqlite:///{Path(folder) / 'catalog.db'}")
        for url in urls:
            engine = open_engine(url)
            run(engine, args.entities, args.runs, args.reuse)
            engine.dispose()
        if args.postgres:
            _run_on_throwaway_postgres(args.entities, args.runs)


def _run_on_throwaway_postgres(count: int, runs: int) -> None:
    from tests.fixtures.postgres import DEFAULT_PG_BIN, create_database, start_cluster

    cluster = start_cluster(Path(DEFAULT_PG_BIN))
    try:
        engine = open_engine(create_database(cluster, template=None))
        run(engine, count, runs)
        engine.dispose()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
