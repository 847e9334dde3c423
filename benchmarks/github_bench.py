"""The github source against the local fake GitHub: a full discovery and sync of an organisation, a
pass where nothing changed, and a pass after 1% of the repositories got a push.

Requests are counted by the fake host (conditional or not, API and git apart), so the economy claims
of SPEC section 8 are measured where GitHub would count them. The fleet is one bare repository with a
branch per hosted repository (each hosted repository's default branch), written by one
``git fast-import``: every repository has its own descriptor and its own commit, and building ten
thousand takes seconds. Run ``python -m benchmarks.github_bench [--size N]``; the table is printed and
written to ``benchmarks/results/github.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from catalog_sync.cli import build_sync_engine, open_store
from catalog_sync.config import parse_settings
from tests.fixtures.fakegithub import FakeGitHub, FakeRepo, fake_github
from tests.fixtures.gitrepos import git_env, new_remote

HERE = Path(__file__).resolve().parent
TOKEN = "ghp_" + "BenchmarkToken0" * 3
TOKEN_ENV = "CATALOG_BENCH_GITHUB_TOKEN"


@dataclass
class Row:
    """One phase: its seconds, what the pass did, and what the host saw."""

    phase: str
    seconds: float
    repositories: int
    changed: int
    unchanged: int
    errors: int
    api_requests: int
    conditional: int
    not_modified: int
    git_requests: int


def descriptor(index: int, revision: int) -> bytes:
    """A Component descriptor of repository ``index``; ``revision`` changes its description."""
    return (
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n"
        f"  name: svc-{index:05}\n  description: revision {revision}\n"
        "spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
    ).encode()


def write_branches(git_dir: Path, indexes: list[int], revision: int) -> None:
    """One commit per repository on branch ``r{index}``, all in one fast-import run."""
    chunks: list[bytes] = []
    stamp = int(time.time())
    for index in indexes:
        body = descriptor(index, revision)
        message = f"revision {revision}".encode()
        chunks += [
            f"commit refs/heads/r{index:05}\n".encode(),
            f"committer Bench <bench@example.com> {stamp} +0000\n".encode(),
            f"data {len(message)}\n".encode() + message + b"\n",
        ]
        if revision > 0:
            chunks.append(f"from refs/heads/r{index:05}^0\n".encode())
        chunks.append(f"M 100644 inline catalog-info.yaml\ndata {len(body)}\n".encode() + body + b"\n")
    subprocess.run(
        ["git", "--git-dir", str(git_dir), "fast-import", "--quiet", "--force"],
        input=b"".join(chunks),
        env=git_env(),
        check=True,
    )


def build_fleet(hub: FakeGitHub, size: int) -> list[FakeRepo]:
    """``size`` repositories of the organisation ``acme``, each on its own branch of one bare repo."""
    remote = new_remote(hub.root, "fleet")
    write_branches(remote.path, list(range(size)), 0)
    repos = []
    with hub.lock:
        for index in range(size):
            repo = FakeRepo(
                1_000_000 + index, "acme", f"svc-{index:05}", remote, default_branch=f"r{index:05}"
            )
            repo.pushed_at = hub._tick()
            hub.repos[repo.id] = repo
            repos.append(repo)
    return repos


def measure(hub: FakeGitHub, phase: str, run: Any) -> Row:
    """Run one pass and count what the host saw."""
    hub.clear()
    started = time.perf_counter()
    summary = run()
    seconds = time.perf_counter() - started
    print(f"{phase}: {seconds:.1f} s", file=sys.stderr, flush=True)
    api, git = hub.api_requests(), hub.git_requests()
    return Row(
        phase=phase,
        seconds=round(seconds, 3),
        repositories=summary.repositories,
        changed=summary.changed,
        unchanged=summary.unchanged,
        errors=summary.errors,
        api_requests=len(api),
        conditional=sum(1 for s in api if s.conditional),
        not_modified=sum(1 for s in api if s.status == 304),
        git_requests=len(git),
    )


def run_benchmark(size: int, workdir: Path, read: str = "api") -> dict[str, Any]:
    """The three phases over a fresh fleet and database; answers the table as data. ``read="git"``
    makes every tree answer truncated, so each changed repository is read by a shallow fetch instead
    of through the API (the two ways compared on one machine at one moment)."""
    os.environ[TOKEN_ENV] = TOKEN
    with fake_github(workdir / "hub") as hub:
        hub.orgs.add("acme")
        hub.tokens.add(TOKEN)
        hub.rate_limit = hub.remaining = 10 * size + 10_000  # an Enterprise budget: no waits measured
        if read == "git":
            hub.tree_limit = 0
        built = time.perf_counter()
        repos = build_fleet(hub, size)
        build_seconds = time.perf_counter() - built
        config = {
            "database": f"sqlite:///{workdir / 'catalog.db'}",
            "sources": [
                {
                    "name": "acme",
                    "type": "github",
                    "org": "acme",
                    "api_url": hub.api_url,
                    "auth": {"token_env": TOKEN_ENV},
                }
            ],
            "sync": {"allowed_protocols": ["http"], "cache_dir": str(workdir / "cache")},
        }
        settings = parse_settings(config, str(workdir), environ={})
        # Scans in fresh interpreters (as under ``serve``): a scanning pool forked from this process
        # would inherit the fake host's open connections and hold them open.
        engine = build_sync_engine(settings, open_store(settings), isolated=True)
        rows = [measure(hub, "full", lambda: engine.run_pass(everything=True))]
        rows.append(measure(hub, "no-change", lambda: engine.run_pass(everything=True)))
        pushed = repos[:: max(1, 100)][: max(1, size // 100)]
        write_branches(pushed[0].remote.path, [int(r.name[4:]) for r in pushed], 1)
        for repo in pushed:
            hub.touch(repo)
        rows.append(measure(hub, "changed-1%", lambda: engine.run_pass(everything=True)))
        engine.close()
    return {
        "size": size,
        "read": read,
        "fleet_build_seconds": round(build_seconds, 2),
        "list_pages": math.ceil(size / 100),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "rows": [asdict(r) for r in rows],
    }


def table(result: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    lines = [
        f"github source ({result.get('read', 'api')} read), {result['size']} repositories "
        f"({result['list_pages']} list pages), "
        f"load average {result['load_average']:.1f} on {result['cpus']} cores",
        "",
        "| phase | seconds | changed | unchanged | errors | API requests | conditional | 304 | git |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        keys = ("phase", "seconds", "changed", "unchanged", "errors", "api_requests", "conditional")
        cells = [str(row[k]) for k in (*keys, "not_modified", "git_requests")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.github_bench")
    parser.add_argument("--size", type=int, default=10_000, help="repositories in the organisation")
    parser.add_argument("--output", default=str(HERE / "results" / "github.json"))
    parser.add_argument(
        "--read",
        choices=("api", "git"),
        default="api",
        help="read content through the API or by shallow fetch",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.size <= 100_000:
        parser.error("--size must be between 1 and 100000")
    with tempfile.TemporaryDirectory(prefix="github-bench-") as workdir:
        result = run_benchmark(args.size, Path(workdir), args.read)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
