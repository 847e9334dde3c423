"""Scale-out: 1, 2 and 4 ``catalog-sync worker`` processes on one PostgreSQL over one fleet.

Each round starts from an empty, migrated database and the same fleet (``benchmarks/fleet.py``, 10,000
product repositories plus ``platform.git`` by default), launches the workers together and times them
until every repository has been read once; then it stops them (SIGTERM) and checks, from the
database's own records of its passes, that no repository was read twice. Printed per round:
repositories per second, the speed-up over one worker, the share of claims that were contended (see
``benchmarks/scaleout_worker.py``) and the reads beyond one per repository (must be 0).

    python -m benchmarks.scaleout_bench                         # 10,000 repositories, 1, 2 and 4 workers
    python -m benchmarks.scaleout_bench --size 1000 --workers 1,2
    python -m benchmarks.scaleout_bench --server postgresql+psycopg://u@host/postgres  # databases made there
    python -m benchmarks.scaleout_bench --source github --workers 1,2  # the fleet read through a fake GitHub

Exit status 1 when a repository was read twice or left unread, or when more workers were slower than
fewer beyond the noise allowance (``--noise``, 10%): on a machine with fewer cores than workers the
speed-up stops at the cores, but adding workers must never cost throughput.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from benchmarks.fleet import generate_fleet
from catalog_sync.store.tables import entities, repositories, sync_runs

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "scaleout.json"
TIMEOUT_S = 1800.0
TAKEN_OVER = "were taken over by another worker"


@dataclass
class Round:
    """One number of workers over the fleet: how fast, how contended, how exact."""

    workers: int
    seconds: float
    repositories: int
    reads: int
    entities: int
    claims: int
    contended: int
    taken_over_warnings: int
    passes: int
    database_mib: float = 0.0
    """The database's size on disk after the round (pg_database_size), for sizing PostgreSQL."""
    load_average: float = 0.0
    """The machine's 1-minute load average at the end of the round: other work skews the figures."""

    @property
    def per_second(self) -> float:
        """Repositories read per second, start of the processes to the last repository read."""
        return self.repositories / self.seconds if self.seconds else 0.0

    @property
    def contended_share(self) -> float:
        """The share of claims that came back short while others held unread repositories."""
        return self.contended / self.claims if self.claims else 0.0


@contextmanager
def postgres_server(server: str | None) -> Iterator[str]:
    """An admin URL of a PostgreSQL server: the one given, or a throwaway cluster for this run."""
    if server:
        yield server
        return
    from tests.fixtures.postgres import DEFAULT_PG_BIN, PG_BIN_ENV, start_cluster

    cluster = start_cluster(Path(os.environ.get(PG_BIN_ENV, DEFAULT_PG_BIN)))
    try:
        yield cluster.url()
    finally:
        cluster.stop()


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """An empty database on the server, dropped afterwards."""
    name = f"scaleout_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def served_source(kind: str, fleet: Path) -> Iterator[dict[str, Any]]:
    """The source the workers read: the fleet's folder, or the fleet served as the organisation
    ``acme`` by the github benchmark's fake GitHub (a process of its own, its token in the workers'
    environment)."""
    if kind == "local":
        yield {"name": "fleet", "type": "local", "path": str(fleet)}
        return
    from benchmarks.github_bench import TOKEN, TOKEN_ENV, Host

    os.environ[TOKEN_ENV] = TOKEN
    host = Host(fleet, truncate=False)
    try:
        yield {
            "name": "acme",
            "type": "github",
            "org": "acme",
            "api_url": host.api_url,
            "auth": {"token_env": TOKEN_ENV},
        }
    finally:
        host.close()


def _catalog_sync(*args: str) -> subprocess.CompletedProcess[str]:
    program = Path(sys.executable).with_name("catalog-sync")
    return subprocess.run([str(program), *args], capture_output=True, text=True, timeout=600, check=False)


def _progress(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                select(func.count(), func.count(repositories.c.last_sync_at)).where(
                    repositories.c.removed_at.is_(None)
                )
            ).one()
        return int(row[0]), int(row[1])
    finally:
        engine.dispose()


def _records(url: str) -> tuple[int, int, int, float]:
    """Repositories read over every pass (the passes' own counts), passes, entities stored, and the
    database's size in MiB."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            reads, passes = connection.execute(
                select(func.coalesce(func.sum(sync_runs.c.repositories), 0), func.count())
            ).one()
            stored = connection.execute(select(func.count()).select_from(entities)).scalar_one()
            size = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        return int(reads), int(passes), int(stored), int(size) / 2**20
    finally:
        engine.dispose()


def run_round(
    server: str,
    source: dict[str, Any],
    expected: int,
    workers: int,
    concurrency: int,
    folder: Path,
) -> Round:
    """Migrate an empty database, start ``workers`` workers together and time them to the last read;
    each round has a cache folder of its own, so no round finds what an earlier one fetched."""
    with fresh_database(server) as url:
        config = folder / f"catalog-sync-{workers}.yaml"
        config.write_text(
            json.dumps(
                {
                    "database": url,
                    "sources": [source],
                    # A day between passes: nothing is read a second time because it came due again.
                    "sync": {
                        "concurrency": concurrency,
                        "interval_seconds": 86400,
                        "cache_dir": str(folder / f"cache-{workers}"),
                        "allowed_protocols": ["https", "http"],
                    },
                }
            )
        )
        migrated = _catalog_sync("db", "upgrade", "--config", str(config))
        if migrated.returncode != 0:
            raise RuntimeError(f"catalog-sync db upgrade failed: {migrated.stderr}")
        outs = [folder / f"claims-{workers}-{n}.json" for n in range(workers)]
        logs = [folder / f"worker-{workers}-{n}.log" for n in range(workers)]
        started = time.perf_counter()
        processes = []
        for out, log in zip(outs, logs, strict=True):
            command = [sys.executable, "-m", "benchmarks.scaleout_worker", "--claims-out", str(out), "--"]
            command += ["--config", str(config), "--poll-seconds", "0.5"]
            with log.open("w") as handle:
                processes.append(subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT))
        try:
            while True:
                total, read = _progress(url)
                if total >= expected and read == total:
                    break
                if time.perf_counter() - started > TIMEOUT_S:
                    raise RuntimeError(f"{read} of {total} repositories read after {TIMEOUT_S:.0f} s")
                dead = [p for p in processes if p.poll() is not None]
                if dead:
                    raise RuntimeError(
                        f"a worker exited ({dead[0].returncode}): {logs[0].read_text()[-2000:]}"
                    )
                time.sleep(0.2)
            seconds = time.perf_counter() - started
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    process.kill()
        reads, passes, stored, size = _records(url)
        claims = [json.loads(out.read_text()) for out in outs if out.exists()]
        warnings = sum(log.read_text().count(TAKEN_OVER) for log in logs)
        return Round(
            workers=workers,
            seconds=seconds,
            repositories=total,
            reads=reads,
            entities=stored,
            claims=sum(c["claims"] for c in claims),
            contended=sum(c["contended"] for c in claims),
            taken_over_warnings=warnings,
            passes=passes,
            database_mib=size,
            load_average=os.getloadavg()[0],
        )


def problems(rounds: Sequence[Round], noise: float) -> list[str]:
    """What makes the run fail: a repository read twice or never, or more workers slower than fewer."""
    found = []
    for r in rounds:
        if r.reads != r.repositories:
            found.append(f"{r.workers} workers: {r.reads} reads for {r.repositories} repositories")
    for fewer, more in itertools.pairwise(rounds):
        if more.per_second < fewer.per_second * (1 - noise):
            found.append(
                f"{more.workers} workers read {more.per_second:.0f}/s, slower than {fewer.workers} "
                f"({fewer.per_second:.0f}/s) beyond the {noise:.0%} noise allowance"
            )
    return found


def render(rounds: Sequence[Round]) -> str:
    """The table printed at the end."""
    base = rounds[0].per_second if rounds else 0.0
    lines = [
        f"{'workers':>7} {'seconds':>8} {'repos/s':>8} {'speed-up':>8} {'claims':>7} "
        f"{'contended':>9} {'reads-1':>7} {'passes':>6} {'load':>5}"
    ]
    for r in rounds:
        lines.append(
            f"{r.workers:>7} {r.seconds:>8.1f} {r.per_second:>8.0f} {r.per_second / base:>7.2f}x "
            f"{r.claims:>7} {r.contended_share:>9.1%} {r.reads - r.repositories:>7} {r.passes:>6} "
            f"{r.load_average:>5.1f}"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scaleout_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--size", type=int, default=10_000, help="product repositories in the fleet")
    parser.add_argument("--workers", default="1,2,4", help="comma-separated numbers of worker processes")
    parser.add_argument("--concurrency", type=int, default=2, help="sync.concurrency of each worker")
    parser.add_argument("--server", help="admin URL of a PostgreSQL server (default: a throwaway cluster)")
    parser.add_argument("--noise", type=float, default=0.10, help="allowed slow-down of more workers")
    parser.add_argument("--fleet-dir", type=Path, default=HERE / ".fleet")
    parser.add_argument(
        "--source",
        choices=("local", "github"),
        default="local",
        help="read the fleet's folder, or through a fake GitHub",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run every round, print the table, write benchmarks/results/scaleout.json."""
    args = build_parser().parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    fleet = generate_fleet(args.fleet_dir / f"{args.size}-0", args.size)
    print(
        f"fleet: {fleet.repositories} repositories in {fleet.root} ({'reused' if fleet.reused else 'built'})"
    )
    rounds: list[Round] = []
    with (
        postgres_server(args.server) as server,
        tempfile.TemporaryDirectory() as scratch,
        served_source(args.source, fleet.root) as source,
    ):
        for workers in counts:
            done = run_round(server, source, fleet.repositories, workers, args.concurrency, Path(scratch))
            print(
                f"{workers} workers: {done.repositories} repositories in {done.seconds:.1f} s "
                f"({done.per_second:.0f}/s), {done.contended_share:.1%} of {done.claims} claims contended, "
                f"{done.reads - done.repositories} repeated reads, database {done.database_mib:.0f} MiB",
                flush=True,
            )
            rounds.append(done)
    print(render(rounds))
    found = problems(rounds, args.noise)
    for problem in found:
        print(f"FAILED: {problem}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "node": platform.node(),
                },
                "size": args.size,
                "source": args.source,
                "concurrency": args.concurrency,
                "rounds": [
                    {**asdict(r), "per_second": r.per_second, "contended_share": r.contended_share}
                    for r in rounds
                ],
                "problems": found,
            },
            indent=2,
        )
        + "\n"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
