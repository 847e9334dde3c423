"""The github source against the local fake GitHub, beside the local source over the same fleet.

The fleet is the sync benchmark's (``benchmarks.fleet``: ``size`` product repositories and
``platform``, reused from ``benchmarks/.fleet``), served by the fake GitHub as the organisation
``acme`` from a process of its own (``benchmarks.github_host``), so the figures are the client's: its
wall time and the CPU seconds of this process and its scanning children, with the host's CPU apart.
Three passes of the github source (a full discovery and sync into an empty catalog, a pass where
nothing changed, a pass after 1% of the repositories got a commit), then the local source's full pass
over the same repositories into another empty catalog, with the same settings; the ratio of the two
full passes is the figure SPEC section 8's economy is judged by.

Requests are counted by the host (conditional or not, API and git apart), where GitHub would count
them. Run ``python -m benchmarks.github_bench [--size N] [--read api|git]``; the table is printed and
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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.fleet import generate_fleet, restore_fleet, touch_fraction
from benchmarks.procfs import descendants, process_cpu
from catalog_sync.cli import build_sync_engine, open_store
from catalog_sync.config import parse_settings
from catalog_sync.sync.collector import tune_collector
from catalog_sync.sync.summary import PassSummary

HERE = Path(__file__).resolve().parent
TOKEN = "ghp_" + "BenchmarkToken0" * 3
TOKEN_ENV = "CATALOG_BENCH_GITHUB_TOKEN"
MAX_LOCAL_RATIO = 2.0
"""The github source's full pass may take at most this many times the local source's."""
MAX_NO_CHANGE_SECONDS = 2.0


@dataclass
class Row:
    """One pass: its seconds, the CPU it cost, what it did, and what the host saw."""

    source: str
    phase: str
    seconds: float
    client_cpu: float
    """CPU seconds of the syncing process and its scanning children."""
    main_cpu: float
    """Of which the syncing process itself (its threads: requests, planning, the database)."""
    host_cpu: float
    repositories: int
    changed: int
    unchanged: int
    errors: int
    api_requests: int = 0
    conditional: int = 0
    not_modified: int = 0
    git_requests: int = 0


class Host:
    """The fake GitHub's process, steered one command a line."""

    def __init__(self, fleet: Path, *, truncate: bool) -> None:
        command = [sys.executable, "-m", "benchmarks.github_host", str(fleet), TOKEN]
        self.process = subprocess.Popen(
            [*command, *(["--truncate"] if truncate else [])],
            cwd=HERE.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        first = self._line()
        self.api_url = str(first["api_url"])
        self.repositories = int(first["repositories"])

    def _line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fake GitHub stopped (exit status {self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, command: str) -> dict[str, Any]:
        """One command's answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._line()

    def close(self) -> None:
        """End the host (it stops when its input closes)."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def client_cpu(host_pid: int) -> float:
    """CPU seconds of this process and its living descendants, the host's process left out."""
    skip = {host_pid, *descendants(host_pid)}
    return sum(process_cpu(pid) for pid in [os.getpid(), *descendants(os.getpid())] if pid not in skip)


def measure(host: Host, source: str, phase: str, run: Callable[[], PassSummary]) -> Row:
    """Run one pass and count what it cost, here and at the host."""
    host.ask("clear")
    cpu, hosted = client_cpu(host.process.pid), host.ask("cpu")["cpu_seconds"]
    main = process_cpu(os.getpid(), waited=False)
    started = time.perf_counter()
    summary = run()
    seconds = time.perf_counter() - started
    main = process_cpu(os.getpid(), waited=False) - main
    cpu, hosted = client_cpu(host.process.pid) - cpu, host.ask("cpu")["cpu_seconds"] - hosted
    print(f"{source} {phase}: {seconds:.1f} s, client CPU {cpu:.1f} s", file=sys.stderr, flush=True)
    seen = host.ask("counts") if source == "github" else {}
    return Row(
        source=source,
        phase=phase,
        seconds=round(seconds, 3),
        client_cpu=round(cpu, 2),
        main_cpu=round(main, 2),
        host_cpu=round(hosted, 2) if source == "github" else 0.0,
        repositories=summary.repositories,
        changed=summary.changed,
        unchanged=summary.unchanged,
        errors=summary.errors,
        **seen,
    )


def _engine(workdir: Path, name: str, source: dict[str, Any], isolated: bool) -> Any:
    config = {
        "database": f"sqlite:///{workdir / f'{name}.db'}",
        "sources": [{"name": name, **source}],
        "sync": {"allowed_protocols": ["http"], "cache_dir": str(workdir / f"{name}-cache")},
    }
    settings = parse_settings(config, str(workdir), environ={})
    engine = build_sync_engine(settings, open_store(settings), isolated=isolated)
    tune_collector()  # as the sync, worker and serve commands do once built
    return engine


def run_benchmark(
    size: int,
    workdir: Path,
    read: str = "api",
    *,
    fleet_dir: Path = HERE / ".fleet",
    seed: int = 0,
    isolated: bool = False,
    local: bool = True,
) -> dict[str, Any]:
    """The github source's three passes and the local source's full pass over one fleet; answers the
    table as data. ``read="git"`` makes every tree answer truncated, so each changed repository is read
    by a shallow fetch instead of through the API. ``isolated`` scans as under ``serve``."""
    os.environ[TOKEN_ENV] = TOKEN
    fleet = generate_fleet(fleet_dir / f"{size}-{seed}", size, seed=seed)
    host = Host(fleet.root, truncate=read == "git")
    rows: list[Row] = []
    try:
        github = {"type": "github", "org": "acme", "api_url": host.api_url, "auth": {"token_env": TOKEN_ENV}}
        engine = _engine(workdir, "acme", github, isolated)
        try:
            rows.append(measure(host, "github", "full", lambda: engine.run_pass(everything=True)))
            rows.append(measure(host, "github", "no-change", lambda: engine.run_pass(everything=True)))
            touched = touch_fraction(fleet.root, 0.01, seed + 1)
            host.ask("touch " + " ".join(f"{name}" for name in touched))
            rows.append(measure(host, "github", "changed-1%", lambda: engine.run_pass(everything=True)))
        finally:
            restore_fleet(fleet.root)
            engine.close()
        if local:
            engine = _engine(workdir, "fleet", {"type": "local", "path": str(fleet.root)}, isolated)
            try:
                rows.append(measure(host, "local", "full", lambda: engine.run_pass(everything=True)))
                rows.append(measure(host, "local", "no-change", lambda: engine.run_pass(everything=True)))
            finally:
                engine.close()
    finally:
        host.close()
    return {
        "size": size,
        "repositories": host.repositories,
        "read": read,
        "isolated": isolated,
        "fleet_seconds": round(fleet.seconds, 2),
        "list_pages": math.ceil(host.repositories / 100),
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "rows": [asdict(r) for r in rows],
        **verdicts(rows),
    }


def verdicts(rows: list[Row]) -> dict[str, Any]:
    """The github full pass against the local one, and the no-change pass against its budget."""
    by = {(r.source, r.phase): r for r in rows}
    out: dict[str, Any] = {}
    github, local = by.get(("github", "full")), by.get(("local", "full"))
    if github is not None and local is not None and local.seconds > 0:
        out["full_ratio"] = round(github.seconds / local.seconds, 2)
        out["full_cpu_ratio"] = round(github.client_cpu / max(local.client_cpu, 0.01), 2)
        out["full_ratio_met"] = out["full_ratio"] <= MAX_LOCAL_RATIO
    quiet = by.get(("github", "no-change"))
    if quiet is not None:
        pages = math.ceil(quiet.repositories / 100)
        out["no_change_met"] = (
            quiet.seconds <= MAX_NO_CHANGE_SECONDS
            and quiet.api_requests <= pages + 1
            and quiet.conditional == quiet.api_requests
        )
    return out


def table(result: dict[str, Any]) -> str:
    """The result as a Markdown table, with the verdicts under it."""
    lines = [
        f"github source ({result['read']} read) and local source, {result['repositories']} repositories "
        f"({result['list_pages']} list pages), load average {result['load_average']:.1f} on "
        f"{result['cpus']} cores",
        "",
        "| source | phase | seconds | client CPU s | of which sync process | host CPU s | changed "
        "| unchanged | errors | API requests | conditional | 304 | git |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    keys = ("source", "phase", "seconds", "client_cpu", "main_cpu", "host_cpu", "changed", "unchanged")
    counted = ("api_requests", "conditional", "not_modified", "git_requests")
    for row in result["rows"]:
        hosted = row["source"] == "github"
        cells = [str(row[k]) for k in (*keys, "errors")] + [str(row[k]) if hosted else "" for k in counted]
        lines.append("| " + " | ".join(cells) + " |")
    if "full_ratio" in result:
        lines.append("")
        verdict = "met" if result["full_ratio_met"] else "MISSED"
        lines.append(
            f"full pass, github / local: {result['full_ratio']:.2f}x wall, {result['full_cpu_ratio']:.2f}x "
            f"client CPU (target <= {MAX_LOCAL_RATIO:g}x wall: {verdict})"
        )
    if "no_change_met" in result:
        lines.append(
            f"no-change pass: <= {MAX_NO_CHANGE_SECONDS:g} s, one conditional request per list page: "
            f"{'met' if result['no_change_met'] else 'MISSED'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.github_bench")
    parser.add_argument("--size", type=int, default=10_000, help="product repositories in the organisation")
    parser.add_argument("--output", default=str(HERE / "results" / "github.json"))
    parser.add_argument(
        "--read",
        choices=("api", "git"),
        default="api",
        help="read content through the API or by shallow fetch",
    )
    parser.add_argument("--isolated", action="store_true", help="scan in child processes, as under serve")
    parser.add_argument("--no-local", action="store_true", help="skip the local source's passes")
    args = parser.parse_args(argv)
    if not 1 <= args.size <= 100_000:
        parser.error("--size must be between 1 and 100000")
    with tempfile.TemporaryDirectory(prefix="github-bench-") as workdir:
        result = run_benchmark(
            args.size, Path(workdir), args.read, isolated=args.isolated, local=not args.no_local
        )
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
