"""What a hostile repository or request costs now that budgets bound it.

    .venv/bin/python -m benchmarks.hostile_bench

Each tree bomb (ten blobs, then levels of ten trees naming the level below) is scanned with the
default budgets in a fresh process, whose wall time and peak memory are printed: a bomb must fail its
repository within seconds and tens of megabytes whatever it claims to hold. Then redaction is timed on
60 KB texts shaped to make a URL finder backtrack, since every error answer and log line is redacted.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from catalog_sync.config import DEFAULT_FACT_PATHS, DescriptorSettings, SyncSettings
from catalog_sync.errors import CatalogSyncError
from catalog_sync.scanner import scan, scan_budget
from catalog_sync.sources.gitread import GitSnapshot
from catalog_sync.sources.urls import redact

LEVELS = (5, 8)
"""10^6 and 10^9 paths: the sizes of the reproduction."""
HOSTILE_TEXTS = {
    "60 KB of 'a'": "a" * 60_000,
    "60 KB of 'a:'": "a:" * 30_000,
    "60 KB path of '/x'": "/x" * 30_000,
    "60 KB query value": "https://host/r.git?" + "k=" + "v" * 60_000,
}


def _git(repo: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], input=stdin, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def build_bomb(repo: Path, levels: int) -> str:
    """A bare repository whose one commit holds ``10 ** (levels + 1)`` paths and a descriptor."""
    subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
    blobs = [_git(repo, "hash-object", "-w", "--stdin", stdin=f"blob {i}\n") for i in range(10)]
    tree = _git(repo, "mktree", stdin="".join(f"100644 blob {b}\tf{i}\n" for i, b in enumerate(blobs)))
    for _ in range(levels):
        tree = _git(repo, "mktree", stdin="".join(f"040000 tree {tree}\td{i}\n" for i in range(10)))
    descriptor = _git(repo, "hash-object", "-w", "--stdin", stdin="apiVersion: catalog/v1\nkind: Team\n")
    root = _git(
        repo, "mktree", stdin=f"040000 tree {tree}\tbomb\n100644 blob {descriptor}\tcatalog-info.yaml\n"
    )
    env_date = "2026-01-01T00:00:00Z"
    commit = subprocess.run(
        ["git", "-C", str(repo), "commit-tree", root, "-m", "bomb"],
        capture_output=True,
        text=True,
        check=True,
        env={
            "GIT_AUTHOR_NAME": "b",
            "GIT_AUTHOR_EMAIL": "b@example.com",
            "GIT_COMMITTER_NAME": "b",
            "GIT_COMMITTER_EMAIL": "b@example.com",
            "GIT_AUTHOR_DATE": env_date,
            "GIT_COMMITTER_DATE": env_date,
        },
    ).stdout.strip()
    _git(repo, "update-ref", "refs/heads/main", commit)
    return commit


def scan_once(repo: Path, commit: str) -> dict[str, object]:
    """Scan one bomb with the default budgets in this process; what it cost and how it ended."""
    descriptors = DescriptorSettings()
    budget = scan_budget(descriptors, SyncSettings().scan_timeout_seconds)
    started = time.perf_counter()
    try:
        with GitSnapshot(repo, commit, "main") as snapshot:
            scan(snapshot, descriptors, DEFAULT_FACT_PATHS, budget=budget)
        outcome = "scanned"
    except CatalogSyncError as exc:
        outcome = str(exc)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "outcome": outcome,
    }


def time_redaction() -> list[tuple[str, float]]:
    """Milliseconds to redact each hostile text once."""
    timings = []
    for name, text in HOSTILE_TEXTS.items():
        started = time.perf_counter()
        redact(text)
        timings.append((name, (time.perf_counter() - started) * 1000))
    return timings


def main(argv: list[str] | None = None) -> int:
    """Print the figures; ``--one REPO COMMIT`` is the fresh process that scans one bomb."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hostile_bench")
    parser.add_argument("--one", nargs=2, metavar=("REPO", "COMMIT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(scan_once(Path(args.one[0]), args.one[1])))
        return 0
    print(f"{'tree bomb':>14} {'seconds':>8} {'peak MiB':>9}  outcome")
    with tempfile.TemporaryDirectory() as scratch:
        for levels in LEVELS:
            repo = Path(scratch) / f"bomb-{levels}.git"
            commit = build_bomb(repo, levels)
            child = subprocess.run(
                [sys.executable, "-m", "benchmarks.hostile_bench", "--one", str(repo), commit],
                capture_output=True,
                text=True,
                check=True,
            )
            figures = json.loads(child.stdout)
            print(
                f"{f'10^{levels + 1} paths':>14} {figures['seconds']:>8} {figures['peak_mib']:>9}  "
                f"{str(figures['outcome'])[:90]}"
            )
    print(f"\n{'redaction of':>24} {'ms':>8}")
    for name, ms in time_redaction():
        print(f"{name:>24} {ms:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
