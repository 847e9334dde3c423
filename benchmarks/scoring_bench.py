"""How long scoring takes at fleet size: a full re-score, a no-change one, and one after 1% changed.

The catalog is built the way production builds it: ``benchmarks/fleet.py``'s fleet of real git
repositories (10,000 products by default, plus 50 teams and 30 capabilities in ``platform.git``),
read by a real sync pass into a fresh database. Then, each timed from the outside in this process:

- ``full``: ``Scorer.rescore(None)``, every scorecard on every entity, every gap, from scratch;
- ``no-change``: ``Scorer.rescore([])`` right after: nothing changed, nothing is evaluated;
- ``changed-1%``: 1% of the repositories get a new commit editing their descriptor, a sync pass runs
  (not timed), then ``Scorer.rescore(changed ids)`` re-scores those products and what depends on them;
- ``team-changed``: one team loses its operations member (a new commit in ``platform.git``'s teams
  file), a sync pass, then the re-score of that team and its products.

Targets at 10,000 products: ``full`` <= 10 s, ``changed-1%`` and ``team-changed`` <= 1 s,
``no-change`` <= 0.25 s. The exit status is 1 when a target is missed.

    python -m benchmarks.scoring_bench                     # 10,000 products on SQLite
    python -m benchmarks.scoring_bench --size 1000 --postgres   # also on a throwaway PostgreSQL
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from benchmarks.fleet import generate_fleet, restore_fleet, touch_fraction
from catalog_sync.config import parse_settings
from catalog_sync.scoring import Scorer, ScoringSummary
from catalog_sync.store.base import Database
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.scoring import SqlScoringStore
from catalog_sync.store.sync_sql import SqlSyncStore
from catalog_sync.store.tables import ownership_gaps, scorecard_results
from catalog_sync.sync import SyncEngine

HERE = Path(__file__).resolve().parent
TARGETS = {"full": 10.0, "no-change": 0.25, "changed-1%": 1.0, "team-changed": 1.0}


def _timed(run: Callable[[], ScoringSummary]) -> tuple[float, ScoringSummary]:
    started = time.perf_counter()
    summary = run()
    return time.perf_counter() - started, summary


def _drop_operations_member(platform: Path) -> str:
    """Commit, in the bare ``platform.git``, a teams file where the first team lost its operations member."""
    with tempfile.TemporaryDirectory(prefix="catalog-sync-platform-") as work:
        subprocess.run(["git", "clone", "--quiet", str(platform), work], check=True)
        teams = Path(work) / ".catalog" / "teams.yaml"
        lines = teams.read_text().split("\n")
        first = next(i for i, line in enumerate(lines) if "role: operations" in line)
        team = next(line for line in reversed(lines[:first]) if line.startswith("  name: "))
        del lines[first]
        teams.write_text("\n".join(lines))
        identity = ["-c", "user.name=Bench", "-c", "user.email=bench@example.com"]
        subprocess.run(
            ["git", "-C", work, *identity, "commit", "--quiet", "-am", "Drop a member"], check=True
        )
        subprocess.run(["git", "-C", work, "push", "--quiet", "origin", "HEAD:main"], check=True)
    return team.removeprefix("  name: ")


def _reset_platform(platform: Path, tip: str) -> None:
    subprocess.run(["git", "-C", str(platform), "update-ref", "refs/heads/main", tip], check=True)


def run(engine: Engine, size: int, seed: int, fleet_dir: Path) -> list[dict[str, Any]]:
    """Build the catalog on ``engine`` and time every phase; answer the rows of the table."""
    upgrade(engine)
    fleet = generate_fleet(fleet_dir / f"{size}-{seed}", size, seed=seed)
    settings = parse_settings({"sources": [{"name": "fleet", "type": "local", "path": str(fleet.root)}]})
    scorer = Scorer(settings, SqlScoringStore(Database(engine)))
    sync = SyncEngine(settings, SqlSyncStore(Database(engine)))
    started = time.perf_counter()
    sync.run_pass()
    print(
        f"synced {fleet.repositories} repositories in {time.perf_counter() - started:.1f} s", file=sys.stderr
    )
    rows: list[dict[str, Any]] = []

    def keep(phase: str, seconds: float, summary: ScoringSummary, note: str = "") -> None:
        rows.append(
            {
                "phase": phase,
                "seconds": round(seconds, 3),
                "target": TARGETS[phase],
                "met": seconds <= TARGETS[phase],
                "entities": summary.entities,
                "results": summary.results,
                "full": summary.full,
                "phases": summary.phases,
                "note": note,
            }
        )

    keep("full", *_timed(lambda: scorer.rescore(None)))
    keep("no-change", *_timed(lambda: scorer.rescore([])))
    platform = fleet.root / "platform.git"
    tip = subprocess.run(
        ["git", "-C", str(platform), "rev-parse", "main"], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        touched = touch_fraction(fleet.root, 0.01, seed)
        changed = sync.run_pass().changed_entity_ids
        keep("changed-1%", *_timed(lambda: scorer.rescore(changed)), f"{len(touched)} repositories touched")
        team = _drop_operations_member(platform)
        changed = sync.run_pass().changed_entity_ids
        keep("team-changed", *_timed(lambda: scorer.rescore(changed)), f"team {team}")
    finally:
        restore_fleet(fleet.root)
        _reset_platform(platform, tip)
    with engine.connect() as conn:
        results = conn.execute(select(func.count()).select_from(scorecard_results)).scalar_one()
        gaps = conn.execute(select(func.count()).select_from(ownership_gaps)).scalar_one()
    print(f"{results} scorecard results and {gaps} ownership gaps stored", file=sys.stderr)
    return rows


def print_table(database: str, size: int, rows: list[dict[str, Any]]) -> None:
    """The figures, one phase a line."""
    print(f"\nscoring at {size} products on {database}")
    print(f"{'phase':<14}{'seconds':>9}{'target':>9}{'entities':>10}  met  note")
    for row in rows:
        met = "yes" if row["met"] else "NO"
        figures = f"{row['seconds']:>9.3f}{row['target']:>9.2f}{row['entities']:>10}"
        print(f"{row['phase']:<14}{figures}  {met:<4} {row['note']}")
        spent = ", ".join(f"{name} {seconds:.3f}" for name, seconds in row["phases"].items())
        print(f"{'':<14}{spent}")


def main(argv: list[str] | None = None) -> int:
    """Run on SQLite (and PostgreSQL when asked); exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=10_000, help="products in the fleet (default 10,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fleet-dir", type=Path, default=HERE / ".fleet")
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    report: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="catalog-sync-scoring-bench-") as folder:
        if not args.no_sqlite:
            engine = open_engine(f"sqlite:///{Path(folder) / 'catalog.db'}")
            report["sqlite"] = run(engine, args.size, args.seed, args.fleet_dir)
            engine.dispose()
            print_table("sqlite", args.size, report["sqlite"])
        if args.postgres:
            from tests.fixtures.postgres import DEFAULT_PG_BIN, create_database, start_cluster

            cluster = start_cluster(Path(DEFAULT_PG_BIN))
            try:
                engine = open_engine(create_database(cluster, template=None))
                report["postgresql"] = run(engine, args.size, args.seed, args.fleet_dir)
                engine.dispose()
            finally:
                cluster.stop()
            print_table("postgresql", args.size, report["postgresql"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(row["met"] for rows in report.values() for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
