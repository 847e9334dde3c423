"""Reads under a realistic mixed load: many people using the API and the portal at once.

The single-endpoint benchmark (``api_bench``) times requests one at a time in-process; this one
starts a real server process on 127.0.0.1 and drives it with concurrent clients over fourteen request
types at once, as a team's portal and scripts do:

by-query with and without a filter, full text, by-name, facets, the gap list, scorecard results, a
team summary, the portal's home, catalog, entity and gaps pages, a Prometheus scrape, the repository
list.

The catalog is built the way production builds it: ``benchmarks/fleet.py``'s fleet of git
repositories (10,000 products by default, plus 50 teams and 30 capabilities), then
``catalog-sync db upgrade`` and ``catalog-sync sync`` (which scores every product and finds the gaps).
The server is ``catalog-sync serve --no-sync`` and/or gunicorn with the documented entry
``catalog_sync.cli:wsgi_app()``. Each round sends ``--requests`` requests, drawn reproducibly over the
request types; after it, the memory of the server's whole process tree is read from ``/proc``.

Targets, on two cores: every request type p99 <= 100 ms and the team summary p50 <= 20 ms (over every
request of every round, the first included), and the server's memory flat after the first round:
the tree's PSS grows by less than 5% from the end of round 2 to the end of the last round.

    python -m benchmarks.mixed_load                                  # 10,000 products, serve and gunicorn
    python -m benchmarks.mixed_load --entities 1000 --server serve --rounds 2 --requests 500
    python -m benchmarks.mixed_load --postgres                        # on a throwaway PostgreSQL

Timings depend on how busy the machine is: the load average is printed and written with them.
The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.api_bench import percentiles, throwaway_postgres
from benchmarks.fleet import TEAMS, product_name
from benchmarks.mixed_server import (
    build_catalog,
    running_server,
    scored_scorecards,
    server_command,
    tree_memory,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "mixed_load.json"
P99_TARGET_MS = 100.0
TEAM_SUMMARY_P50_TARGET_MS = 20.0
FLAT_GROWTH = 0.05
LIFECYCLES = ("production", "experimental", "deprecated")


@dataclass(frozen=True)
class Catalog:
    """What the request generators draw names from."""

    products: int
    teams: Sequence[str]
    scorecards: Sequence[str]


def _pick(rng: random.Random, catalog: Catalog) -> tuple[str, str, str]:
    return (
        product_name(rng.randint(1, catalog.products)),
        rng.choice(catalog.teams),
        rng.choice(catalog.scorecards),
    )


def _url(kind: str, rng: random.Random, catalog: Catalog) -> str:
    product, team, scorecard = _pick(rng, catalog)
    owner = f"team:default/{team}"
    owned_by = f"relations.ownedBy={owner}"
    api = "/api/catalog"
    return {
        "by-query": f"{api}/entities/by-query?limit=20",
        "by-query-filtered": f"{api}/entities/by-query?limit=20&filter=kind=product,{owned_by}",
        "full-text": f"{api}/entities/by-query?fullTextFilterTerm={team.split('-')[0]}&limit=20",
        "by-name": f"{api}/entities/by-name/product/default/{product}",
        "facets": f"{api}/entity-facets?facet=spec.lifecycle&facet=spec.owner&filter=kind=product",
        "gaps": f"/api/ownership/gaps?limit=20&owner={owner}"
        if rng.random() < 0.5
        else "/api/ownership/gaps",
        "scorecard-results": f"/api/scorecards/{scorecard}/results?limit=20",
        "team-summary": f"/api/teams/{team}/summary",
        "portal-home": "/",
        "portal-catalog": f"/catalog?kind=product&lifecycle={rng.choice(LIFECYCLES)}",
        "portal-entity": f"/catalog/product/default/{product}",
        "portal-gaps": "/gaps",
        "metrics": "/metrics",
        "repositories": "/api/repositories?limit=50",
    }[kind]


REQUEST_TYPES = (
    "by-query",
    "by-query-filtered",
    "full-text",
    "by-name",
    "facets",
    "gaps",
    "scorecard-results",
    "team-summary",
    "portal-home",
    "portal-catalog",
    "portal-entity",
    "portal-gaps",
    "metrics",
    "repositories",
)


def plan_requests(
    count: int, catalog: Catalog, seed: int, types: Sequence[str] = REQUEST_TYPES
) -> list[tuple[str, str]]:
    """``count`` requests as ``(type, path)``: every type once in each run of ``len(types)``, shuffled,
    so each type gets its share even in a short round; reproducible for a seed."""
    rng = random.Random(seed)
    kinds: list[str] = []
    while len(kinds) < count:
        kinds += rng.sample(types, len(types))
    return [(kind, _url(kind, rng, catalog)) for kind in kinds[:count]]


# --- the load ----------------------------------------------------------------------------------------


@dataclass
class Round:
    """What one round measured."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_round(port: int, plan: Sequence[tuple[str, str]], clients: int) -> Round:
    """Send every planned request with ``clients`` concurrent keep-alive clients; time each."""
    result = Round(samples={kind: [] for kind in REQUEST_TYPES})
    queue = iter(plan)
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                break
            kind, path = item
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                status, path = 0, f"{path}: {exc}"
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                result.samples[kind].append(elapsed)
                if status != 200:
                    result.failures.append(f"{status} {path}")
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def bench_server(kind: str, config: Path, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Every round against one server; the figures per round and over all rounds."""
    with running_server(kind, config, folder) as (pid, port):
        catalog = Catalog(products=args.entities, teams=TEAMS, scorecards=scored_scorecards(port))
        rounds: list[dict[str, Any]] = []
        everything: dict[str, list[float]] = {kind: [] for kind in REQUEST_TYPES}
        memory = [tree_memory(pid)]
        print(f"\n{kind}: started, tree memory {_memory_text(memory[0])}", flush=True)
        for number in range(1, args.rounds + 1):
            types = [name for name in REQUEST_TYPES if name not in args.skip]
            plan = plan_requests(args.requests, catalog, seed=args.seed * 1000 + number, types=types)
            measured = run_round(port, plan, args.clients)
            memory.append(tree_memory(pid))
            for name, samples in measured.samples.items():
                everything[name] += samples
            row = _round_row(number, measured, memory[-1])
            rounds.append(row)
            _print_round(kind, row)
            if measured.failures:
                raise SystemExit(f"{len(measured.failures)} requests failed, e.g. {measured.failures[:3]}")
    overall = {name: percentiles(samples) for name, samples in everything.items() if samples}
    return {"command": server_command(kind, 0), "rounds": rounds, "overall": overall, "memory": memory}


def _round_row(number: int, measured: Round, memory: dict[str, float]) -> dict[str, Any]:
    count = sum(len(samples) for samples in measured.samples.values())
    return {
        "round": number,
        "requests": count,
        "seconds": round(measured.seconds, 2),
        "requests_per_second": round(count / measured.seconds, 1),
        "latency_ms": {
            name: {key: round(value, 1) for key, value in percentiles(samples).items()}
            for name, samples in measured.samples.items()
            if samples
        },
        "all_ms": {
            key: round(value, 1)
            for key, value in percentiles(list(itertools.chain(*measured.samples.values()))).items()
        },
        "memory_mib": memory,
        "load_average": list(os.getloadavg()),
    }


def _memory_text(memory: dict[str, float]) -> str:
    return f"PSS {memory['pss']:.0f} MiB, RSS {memory['rss']:.0f} MiB, anon {memory['anon']:.0f} MiB"


def _print_round(kind: str, row: dict[str, Any]) -> None:
    load = " ".join(f"{value:.2f}" for value in row["load_average"])
    print(
        f"{kind} round {row['round']}: {row['requests']} requests in {row['seconds']:.1f} s, "
        f"{row['requests_per_second']:.1f} requests/s, all p50 {row['all_ms']['p50']:.0f} ms "
        f"p99 {row['all_ms']['p99']:.0f} ms; server tree {_memory_text(row['memory_mib'])}; load {load}",
        flush=True,
    )
    print(f"  {'request type':<20}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'count':>7}")
    for name in REQUEST_TYPES:
        figures = row["latency_ms"].get(name)
        if figures:
            values = "".join(f"{figures[key]:>9.1f}" for key in ("p50", "p95", "p99"))
            print(f"  {name:<20}{values}", flush=True)


def verdicts(kind: str, report: dict[str, Any]) -> list[tuple[bool, str]]:
    """One line per target: met or not, and the figures behind it."""
    overall = report["overall"]
    slow = {name: figures["p99"] for name, figures in overall.items() if figures["p99"] > P99_TARGET_MS}
    worst = max(overall, key=lambda name: overall[name]["p99"])
    lines = [
        (
            not slow,
            f"every request type p99 <= {P99_TARGET_MS:.0f} ms: worst {worst} {overall[worst]['p99']:.0f} ms"
            + (f"; over: {', '.join(f'{n} {v:.0f}' for n, v in slow.items())}" if slow else ""),
        )
    ]
    if "team-summary" in overall:
        summary = overall["team-summary"]["p50"]
        lines.append((summary <= TEAM_SUMMARY_P50_TARGET_MS, f"team summary p50 <= 20 ms: {summary:.1f} ms"))
    else:
        lines.append((False, "team summary p50 <= 20 ms: not measured (--skip team-summary)"))
    pss = [memory["pss"] for memory in report["memory"][1:]]
    if len(pss) >= 3:
        growth = (pss[-1] - pss[1]) / pss[1]
        trace = " -> ".join(f"{value:.0f}" for value in [report["memory"][0]["pss"], *pss])
        lines.append(
            (
                growth < FLAT_GROWTH,
                f"memory flat after round 1 (PSS growth round 2 -> {len(pss)} < 5%): {growth:+.1%} "
                f"(PSS MiB {trace})",
            )
        )
    else:
        lines.append((True, "memory flat after round 1: not judged (needs --rounds 3 or more)"))
    return [(met, f"{kind}: {'met ' if met else 'MISSED'} {text}") for met, text in lines]


def main(argv: Sequence[str] | None = None) -> int:
    """Build the catalog, load each server in turn, print the verdicts; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=10_000, help="products in the fleet (default 10,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000, help="requests per round (default 2,000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--server", choices=["serve", "gunicorn", "both"], default="both")
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL instead of SQLite")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=REQUEST_TYPES,
        help="leave a request type out (repeatable), to see what the others cost without it",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fleet-dir", type=Path, default=HERE / ".fleet")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    args = parser.parse_args(argv)
    servers = ["serve", "gunicorn"] if args.server == "both" else [args.server]
    report: dict[str, Any] = {
        "entities": args.entities,
        "clients": args.clients,
        "requests_per_round": args.requests,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        "load_average_before": list(os.getloadavg()),
    }
    lines: list[tuple[bool, str]] = []
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="catalog-sync-mixed-load-")))
        database = (
            stack.enter_context(throwaway_postgres())
            if args.postgres
            else f"sqlite:///{folder / 'catalog.db'}"
        )
        report["database"] = "postgresql" if args.postgres else "sqlite"
        config = build_catalog(folder, database, args.entities, args.seed, args.fleet_dir)
        for kind in servers:
            report[kind] = bench_server(kind, config, folder, args)
            lines += verdicts(kind, report[kind])
    report["load_average_after"] = list(os.getloadavg())
    report["verdicts"] = [text for _, text in lines]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print()
    for _, text in lines:
        print(text)
    return 0 if all(met for met, _ in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
