"""What reading one GitHub repository costs the syncing process, apart from the rest of a pass.

A full pass of the github source is bound by the syncing process's one interpreter; this isolates the
source's own share. Over the fake GitHub of ``benchmarks.github_bench`` (a process of its own), a
``GitHubSource`` lists the organisation, then every repository is read as a pass's tip threads read
it, with no scan, reconcile or database: its tip (a branch request) alone, then its tip and commit
(the tree and descriptor blobs through the API, into a fresh cache), then the same with the check for
``git`` KPIs. Each in one thread and in ``--threads``; printed as CPU milliseconds per repository of
this process (user and system), so the cost of sharing the interpreter lock shows as the difference.

    python -m benchmarks.github_read_bench --size 2000 --threads 8
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.fleet import generate_fleet
from benchmarks.github_bench import HERE, TOKEN, TOKEN_ENV, Host
from catalog_sync.config import parse_settings
from catalog_sync.sources import build_source
from catalog_sync.sources.github import GitHubSource
from catalog_sync.sources.githubrepo import GitHubRepository

MODES = ("tip", "read", "read+history")


def read_all(host: Host, mode: str, threads: int) -> tuple[float, float, float, int]:
    """Wall seconds, CPU ms and system ms per repository of reading every repository in ``mode``,
    and how many there were; a fresh cache each time, so every repository is read."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        github = {"type": "github", "org": "acme", "api_url": host.api_url, "auth": {"token_env": TOKEN_ENV}}
        config = {"sources": [{"name": "acme", **github}], "sync": {"allowed_protocols": ["http"]}}
        settings = parse_settings(config, str(work), environ={})
        source = build_source(
            settings.sources[0],
            base_dir=str(work),
            cache_dir=str(work / "cache"),
            allowed_protocols=("http",),
            sync=settings.sync,
            descriptors=settings.descriptors,
        )
        assert isinstance(source, GitHubSource)
        if mode != "read+history":
            source.history = None
        repositories = [r for r in source.discover() if isinstance(r, GitHubRepository)]

        def read(repository: GitHubRepository) -> None:
            tip = repository.tip()
            if mode != "tip":
                repository.prefetch(tip)

        before, started = os.times(), time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(read, repositories))
        after, wall = os.times(), time.perf_counter() - started
    count = max(1, len(repositories))
    cpu = (after.user - before.user + after.system - before.system) / count * 1e3
    return wall, cpu, (after.system - before.system) / count * 1e3, len(repositories)


def main(argv: list[str] | None = None) -> int:
    """Print one line per mode and thread count."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.github_read_bench", description=__doc__)
    parser.add_argument("--size", type=int, default=2000, help="product repositories in the organisation")
    parser.add_argument("--threads", type=int, default=8, help="threads reading at once, as sync.concurrency")
    args = parser.parse_args(argv)
    os.environ[TOKEN_ENV] = TOKEN
    fleet = generate_fleet(HERE / ".fleet" / f"{args.size}-0", args.size)
    host = Host(fleet.root, truncate=False)
    try:
        print(f"{'mode':<13} {'threads':>7} {'seconds':>8} {'CPU ms/repo':>11} {'of which system':>15}")
        for mode in MODES:
            for threads in sorted({1, args.threads}):
                wall, cpu, system, count = read_all(host, mode, threads)
                print(f"{mode:<13} {threads:>7} {wall:>8.2f} {cpu:>11.2f} {system:>15.2f}", flush=True)
        print(f"{count} repositories, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        host.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
