"""``python -m benchmarks`` (``make bench``): the sync benchmark at the fleet sizes that matter."""

from __future__ import annotations

import argparse
import io
import os
import pstats
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.fleet import generate_fleet
from benchmarks.sync_bench import BIN, HERE, run_benchmark, write_config


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("sizes are whole numbers separated by commas") from None
    if not sizes or any(size < 1 or size > 99_999 for size in sizes):
        raise argparse.ArgumentTypeError("each size must be between 1 and 99999")
    return sizes


def profile_full_sync(size: int, *, seed: int = 0, fleet_dir: Path = HERE / ".fleet", top: int = 25) -> str:
    """The full pass under cProfile, by cumulative and by own time (the parent process only: work done
    in worker processes shows as the parent waiting for them)."""
    fleet = generate_fleet(fleet_dir / f"{size}-{seed}", size, seed=seed)
    with tempfile.TemporaryDirectory(prefix="catalog-sync-profile-") as tmp:
        config = write_config(Path(tmp), fleet.root, f"sqlite:///{tmp}/catalog.db", os.cpu_count() or 1)
        subprocess.run(
            [str(BIN / "catalog-sync"), "db", "upgrade", "--config", str(config)],
            check=False,
            capture_output=True,
        )
        profile = Path(tmp) / "sync.prof"
        command = [str(BIN / "python"), "-m", "cProfile", "-o", str(profile), "-m", "catalog_sync", "sync"]
        command += ["--config", str(config), "--format", "json"]
        subprocess.run(command, check=False, capture_output=True)
        text = io.StringIO()
        for order in ("cumulative", "tottime"):
            pstats.Stats(str(profile), stream=text).sort_stats(order).print_stats(top)
    return text.getvalue()


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's command line; every option has the default ``make bench`` relies on."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="catalog-sync sync benchmark")
    parser.add_argument("--sizes", type=_sizes, default=[1000, 10000], help="fleet sizes, e.g. 1000,10000")
    parser.add_argument(
        "--database",
        default="sqlite",
        help="'sqlite' (a fresh file per size) or a PostgreSQL URL (its catalog tables are DROPPED)",
    )
    parser.add_argument("--seed", type=int, default=0, help="fleet generator seed (default 0)")
    parser.add_argument("--touch", type=float, default=0.01, help="fraction changed before the last pass")
    parser.add_argument("--fleet-dir", type=Path, default=HERE / ".fleet", help="where fleets are cached")
    parser.add_argument(
        "--output",
        type=Path,
        default=HERE / "results" / "latest.json",
        help="JSON results file (default benchmarks/results/latest.json)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead: profile one full pass of the largest size; print the top 25",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 1 when a target is missed so CI can gate on it."""
    args = build_parser().parse_args(argv)
    if args.profile:
        print(profile_full_sync(max(args.sizes), seed=args.seed, fleet_dir=args.fleet_dir))
        return 0
    database = None if args.database == "sqlite" else args.database
    rows = run_benchmark(
        args.sizes,
        seed=args.seed,
        database=database,
        fleet_dir=args.fleet_dir,
        touch=args.touch,
        output=args.output,
    )
    return 1 if any(row.met is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
