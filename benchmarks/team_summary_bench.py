"""How long one team's summary takes to read at fleet size, for the team owning most and least.

``GET /api/teams/{name}/summary`` reads what the scorer stored; nothing is evaluated per request. It
used to compute three insights over the whole catalog (capability overlap from every product's
capabilities, coordination load from every ``dependsOn`` relation, runbooks of every team) and keep
one team's line of each, so its cost grew with the catalog, not the team. Now each part is read for
that team alone through indexes. This benchmark times both, in this process, on the same database:

- ``whole-catalog``: the summary as it was computed before (the team's own reads, plus the three
  insights over the whole catalog, as the old reader ran them);
- ``per-team``: the summary as the API computes it now (``ScoringReads.team_summary`` and
  ``scoring.teams.team_document``).

Each request opens a read transaction of its own, as the API does. Besides wall-time percentiles,
the median CPU time of a request is printed: on a busy machine it says what a request costs, where
wall time also says how long it waited for a core. The catalog is the fleet of
``benchmarks/fleet.py`` (10,000 products and 50 teams by default), synced and fully scored first
(about three minutes on two cores; ``--database`` reuses a catalog built before). Targets for
``per-team``: p50 <= 20 ms and p99 <= 100 ms; the exit status is 1 when one is missed.

    python -m benchmarks.team_summary_bench
    python -m benchmarks.team_summary_bench --database sqlite:////tmp/catalog.db --requests 400
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from benchmarks.fleet import generate_fleet
from catalog_sync.config import parse_settings
from catalog_sync.scoring import Scorer
from catalog_sync.scoring.teams import team_document
from catalog_sync.store.base import Database, connection_of
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.scoring import SqlScoringReads, SqlScoringStore
from catalog_sync.store.scoring.insights import coordination_load, runbook_automation
from catalog_sync.store.scoring.types import SERVING_KINDS
from catalog_sync.store.sync_sql import SqlSyncStore
from catalog_sync.store.tables import entities, scoring_subjects
from catalog_sync.sync import SyncEngine

HERE = Path(__file__).resolve().parent
TARGETS = {"p50": 20.0, "p99": 100.0}
"""Milliseconds, for the per-team summary."""


def build_catalog(database: Database, size: int, seed: int, fleet_dir: Path) -> None:
    """Sync the fleet into the database and score it, unless it holds a catalog already."""
    upgrade(database.engine)
    with database.reading() as tx:
        count = connection_of(tx).execute(select(func.count()).select_from(entities)).scalar_one()
    if count:
        print(f"reusing the catalog of {count} entities", file=sys.stderr)
        return
    fleet = generate_fleet(fleet_dir / f"{size}-{seed}", size, seed=seed)
    settings = parse_settings({"sources": [{"name": "fleet", "type": "local", "path": str(fleet.root)}]})
    started = time.perf_counter()
    SyncEngine(settings, SqlSyncStore(database)).run_pass()
    Scorer(settings, SqlScoringStore(database)).rescore(None)
    print(f"synced and scored {size} products in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def teams_by_size(database: Database) -> list[tuple[str, int]]:
    """Teams with what they own (live), fewest first."""
    subjects = scoring_subjects
    query = (
        select(subjects.c.owner, func.count())
        .where(subjects.c.owner.like("team:%"), subjects.c.live.is_(True))
        .group_by(subjects.c.owner)
        .order_by(func.count(), subjects.c.owner)
    )
    with database.reading() as tx:
        return [(row[0], int(row[1])) for row in connection_of(tx).execute(query)]


def _overlap_by_scan(conn: Connection, team: str) -> list[dict[str, Any]]:
    """The capabilities ``team`` shares, as computed before: every product's capabilities, parsed."""
    query = select(scoring_subjects.c.owner, scoring_subjects.c.capabilities).where(
        scoring_subjects.c.live.is_(True),
        scoring_subjects.c.owner != "",
        scoring_subjects.c.kind.in_(sorted(SERVING_KINDS)),
    )
    by_capability: dict[str, Counter[str]] = defaultdict(Counter)
    for owner, capabilities in conn.execute(query):
        for capability in json.loads(capabilities or "[]"):
            by_capability[capability][owner] += 1
    shared = [(cap, teams) for cap, teams in by_capability.items() if len(teams) >= 2 and team in teams]
    shared.sort(key=lambda item: (-len(item[1]), -sum(item[1].values()), item[0]))
    return [
        {
            "capability": cap,
            "teams": [name for name, _ in sorted(teams.items(), key=lambda t: (-t[1], t[0])) if name != team],
        }
        for cap, teams in shared
    ]


def whole_catalog_insights(conn: Connection, team: str) -> dict[str, Any]:
    """One team's insights as computed before: each insight over the whole catalog, one line kept."""
    shared = _overlap_by_scan(conn, team)
    load = {load.team: load for load in coordination_load(conn)}.get(team)
    runbooks = {row["team"]: row for row in runbook_automation(conn)}.get(team)
    return {
        "runbooks": {
            "manual": runbooks["manual"] if runbooks else 0,
            "automated": runbooks["automated"] if runbooks else 0,
        },
        "dependencies": {
            "outgoing": load.outgoing if load else 0,
            "incoming": load.incoming if load else 0,
            "teams": list(load.teams) if load else [],
        },
        "sharedCapabilities": shared,
    }


def whole_catalog_summary(database: Database, reads: SqlScoringReads, name: str) -> dict[str, Any]:
    """The summary with its insights computed over the whole catalog, as before (the team's own reads
    are today's, so this slightly overstates the former cost)."""
    with database.reading() as tx:
        document = team_document(reads.team_summary(tx, name))
        document["insights"] = whole_catalog_insights(connection_of(tx), document["team"]["entityRef"])
    return document


def per_team_summary(database: Database, reads: SqlScoringReads, name: str) -> dict[str, Any]:
    """The summary as the API reads it now."""
    with database.reading() as tx:
        return team_document(reads.team_summary(tx, name))


def time_requests(run: Callable[[], Any], requests: int) -> dict[str, float]:
    """p50 and p99 in milliseconds over ``requests`` calls, after two warm-up calls, and the median CPU
    milliseconds (what a request costs whatever else the machine runs)."""
    run()
    run()
    spent, cpu = [], []
    for _ in range(requests):
        started, started_cpu = time.perf_counter(), time.process_time()
        run()
        spent.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    spent.sort()
    p99 = spent[min(len(spent) - 1, round(0.99 * len(spent)) - 1)]
    return {
        "p50": round(statistics.median(spent), 2),
        "p99": round(p99, 2),
        "cpu": round(statistics.median(cpu), 2),
    }


def run(database: Database, requests: int) -> list[dict[str, Any]]:
    """Time both ways for the team owning most and the team owning least; answer the table's rows."""
    reads = SqlScoringReads(database)
    teams = teams_by_size(database)
    rows = []
    for label, (owner, owned) in (("largest", teams[-1]), ("smallest", teams[0])):
        name = owner.partition("/")[2]
        after_document = per_team_summary(database, reads, name)
        assert after_document == whole_catalog_summary(database, reads, name), "the two ways disagree"
        before = time_requests(partial(whole_catalog_summary, database, reads, name), requests)
        after = time_requests(partial(per_team_summary, database, reads, name), requests)
        met = after["p50"] <= TARGETS["p50"] and after["p99"] <= TARGETS["p99"]
        rows.append(
            {"team": owner, "size": label, "owned": owned, "before": before, "after": after, "met": met}
        )
    return rows


def print_table(database: str, entities_count: int, rows: list[dict[str, Any]]) -> None:
    """The figures, one team a line."""
    print(f"\nteam summary at {entities_count} entities on {database} (milliseconds)")
    columns = f"{'before p50':>12}{'p99':>8}{'cpu':>7}{'after p50':>11}{'p99':>8}{'cpu':>7}"
    print(f"{'team':<26}{'owned':>6}{columns}  met")
    for row in rows:
        before, after = row["before"], row["after"]
        figures = "".join(
            f"{before['p50']:>12.1f}{before['p99']:>8.1f}{before['cpu']:>7.1f}"
            f"{after['p50']:>11.1f}{after['p99']:>8.1f}{after['cpu']:>7.1f}"
        )
        print(f"{row['team']:<26}{row['owned']:>6}{figures}  {'yes' if row['met'] else 'NO'}")


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the catalog, time the summaries, print the table; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=10_000, help="products in the fleet (default 10,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fleet-dir", type=Path, default=HERE / ".fleet")
    parser.add_argument("--database", help="a database URL to build the catalog in, or to reuse")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per team and way")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="catalog-sync-team-bench-") as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'catalog.db'}"
        database = Database(open_engine(url))
        try:
            build_catalog(database, args.size, args.seed, args.fleet_dir)
            with database.reading() as tx:
                count = connection_of(tx).execute(select(func.count()).select_from(entities)).scalar_one()
            rows = run(database, args.requests)
        finally:
            database.dispose()
    print_table(database.dialect, count, rows)
    return 0 if all(row["met"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
