"""The sync benchmark: full, no-change and 1%-changed passes over generated fleets, against the floor.

Every measured run is a fresh process (so its peak memory is its own), timed from outside, with the
interpreter's start-up and imports measured separately and subtracted: the targets are about the work
of a pass, and a long-running worker pays start-up once. Each pass's own JSON summary is checked, so a
pass that is fast because it skipped work cannot meet a target.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.fleet import FleetInfo, generate_fleet, restore_fleet, touch_fraction
from benchmarks.procfs import descendants

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
TARGET_SIZE = 10_000
TARGETS = {"full": 12.0, "no-change": 1.0, "changed-1%": 2.0}
MAX_FLOOR_RATIO = 2.0
MAX_PEAK_MIB = 200.0


@dataclass
class Measured:
    """One process run from outside: wall time, exit status, output and memory."""

    wall: float
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mib: float
    tree_peak_mib: float
    tree_anon_mib: float
    cpu_seconds: float = 0.0
    others_busy: float = 0.0


@dataclass
class Phase:
    """One row of the table: a phase of one fleet size, its figures and its verdict."""

    size: int
    phase: str
    seconds: float
    wall: float
    repositories: int
    peak_rss_mib: float
    tree_peak_mib: float
    tree_anon_mib: float
    cpu_seconds: float = 0.0
    others_busy: float = 0.0
    engine_seconds: float | None = None
    floor_ratio: float | None = None
    target: str = ""
    met: bool | None = None
    notes: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    stderr_tail: str = ""

    @property
    def repos_per_second(self) -> float:
        """Throughput over the repositories the phase covered."""
        return self.repositories / self.seconds if self.seconds > 0 else 0.0


def _proportional_kib(pid: int) -> tuple[int, int]:
    """PSS and its anonymous part (heap, not mapped files) in KiB; PSS splits shared pages between
    their sharers, so forked workers are not counted twice."""
    total = anon = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    total = int(line.split()[1])
                elif line.startswith("Pss_Anon:"):
                    anon = int(line.split()[1])
    except OSError:
        pass
    return total, anon


def _busy_seconds() -> float:
    """CPU time the whole machine has spent busy since boot (every core, every process)."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run_measured(command: Sequence[str], env: dict[str, str] | None = None) -> Measured:
    """Run ``command`` to its end; peak memory is the largest single process of its tree (exact, from
    ``wait4``) and the sampled peak of the whole tree's summed PSS (every 50 ms). ``others_busy`` is
    the share of the machine's cores that other processes kept busy meanwhile: noise in the figures."""
    peak = [0, 0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        busy_before, own_before = _busy_seconds(), time.process_time()
        started = time.perf_counter()
        proc = subprocess.Popen(list(command), stdout=out, stderr=err, env=env)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                sizes = [_proportional_kib(pid) for pid in [proc.pid, *descendants(proc.pid)]]
                peak[0] = max(peak[0], sum(total for total, _ in sizes))
                peak[1] = max(peak[1], sum(anon for _, anon in sizes))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        cpu = usage.ru_utime + usage.ru_stime
        others = _busy_seconds() - busy_before - cpu - (time.process_time() - own_before)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            wall,
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            usage.ru_maxrss / 1024,
            peak[0] / 1024,
            peak[1] / 1024,
            cpu,
            max(others, 0.0) / (wall * (os.cpu_count() or 1)),
        )


def measure_startup(runs: int = 5) -> float:
    """Seconds to start the interpreter and import the command line and the sync engine.

    The least of several runs: start-up is a fixed cost, and anything above its least is noise from
    other processes that must not be subtracted from a pass.
    """
    command = [str(BIN / "python"), "-c", "import catalog_sync.cli, catalog_sync.sync"]
    run_measured(command)  # compiles byte code once, so no run below pays for it
    return min(run_measured(command).wall for _ in range(runs))


def write_config(folder: Path, fleet: Path, database: str, concurrency: int) -> Path:
    """The configuration every pass of one fleet size uses: one local source over the fleet."""
    config = {
        "database": database,
        "sources": [{"name": "fleet", "type": "local", "path": str(fleet)}],
        "sync": {"concurrency": concurrency, "cache_dir": str(folder / "cache")},
    }
    path = folder / "catalog-sync.yaml"
    path.write_text(json.dumps(config, indent=2) + "\n")  # JSON is YAML
    return path


def reset_database(url: str) -> None:
    """Drop every catalog table, so a full pass on PostgreSQL starts from an empty catalog too."""
    from sqlalchemy import create_engine, text

    from catalog_sync.store.tables import metadata

    engine = create_engine(url)
    with engine.begin() as connection:
        metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def _summary(stdout: str) -> dict[str, Any]:
    """The pass's JSON summary: the last top-level object on stdout, however it is indented."""
    text = stdout.strip()
    start = 0 if text.startswith("{") else text.rfind("\n{") + 1
    try:
        parsed = json.loads(text[start:]) if text else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(nothing on stderr)"


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _check(phase: str, summary: dict[str, Any], size: int, touched: int) -> list[str]:
    """What is wrong with a pass's own account of its work, if anything."""
    repos = size + 1
    expected = {
        "full": {"repositories": repos, "changed": repos, "errors": 0},
        "no-change": {"repositories": repos, "changed": 0, "unchanged": repos, "errors": 0},
        "changed-1%": {"repositories": repos, "changed": touched, "unchanged": repos - touched, "errors": 0},
    }[phase]
    if not summary:
        return ["no JSON summary on stdout"]
    return [
        f"{key} is {summary.get(key)}, expected {want}"
        for key, want in expected.items()
        if summary.get(key) != want
    ]


def _row(size: int, phase: str, measured: Measured, seconds: float) -> Phase:
    m = measured
    return Phase(
        size,
        phase,
        seconds,
        m.wall,
        size + 1,
        m.peak_rss_mib,
        m.tree_peak_mib,
        m.tree_anon_mib,
        m.cpu_seconds,
        m.others_busy,
    )


def run_sync(
    size: int, phase: str, config: Path, startup: float, floor: float | None, touched: int = 0
) -> Phase:
    """One measured ``catalog-sync sync`` pass, checked and judged against its targets."""
    measured = run_measured([str(BIN / "catalog-sync"), "sync", "--config", str(config), "--format", "json"])
    summary = _summary(measured.stdout)
    engine = summary.get("duration_seconds")
    # never below the pass's own account: start-up measured on a busy machine can exceed a short pass's
    row = _row(size, phase, measured, max(measured.wall - startup, engine or 0.0))
    row.engine_seconds, row.summary = engine, summary
    if measured.returncode != 0:
        row.notes.append(f"exit status {measured.returncode}: {_last_line(measured.stderr)}")
        row.stderr_tail = measured.stderr[-2000:]
    row.notes += _check(phase, summary, size, touched)
    if floor and phase == "full":
        row.floor_ratio = row.seconds / floor
    judge(row)
    return row


def judge(row: Phase) -> None:
    """Set the row's target text and verdict; time targets are defined at 10,000 repositories."""
    peak = max(row.peak_rss_mib, row.tree_peak_mib)
    parts, met = [f"<= {MAX_PEAK_MIB:.0f} MiB"], peak <= MAX_PEAK_MIB
    if row.size == TARGET_SIZE and row.phase in TARGETS:
        parts.insert(0, f"<= {TARGETS[row.phase]:g} s")
        met = met and row.seconds <= TARGETS[row.phase]
    if row.floor_ratio is not None:
        parts.insert(1, f"<= {MAX_FLOOR_RATIO:g}x floor")
        met = met and row.floor_ratio <= MAX_FLOOR_RATIO
    row.target = ", ".join(parts)
    row.met = met and not row.notes


def run_floor(size: int, fleet: Path, workers: int) -> Phase:
    """The floor, in its own process so its memory is measured like the passes'."""
    command = [str(BIN / "python"), "-m", "benchmarks.floor", str(fleet), "--workers", str(workers)]
    measured = run_measured([*command, "--format", "json"])
    row = _row(size, f"floor x{workers}", measured, 0.0)
    if measured.returncode != 0:
        row.notes.append(f"floor failed: {_last_line(measured.stderr)}")
        return row
    result = json.loads(measured.stdout)
    row.seconds, row.summary = result["seconds"], result
    return row


def bench_size(
    size: int,
    *,
    seed: int,
    database: str | None,
    startup: float,
    fleet_dir: Path,
    touch: float,
    report: Callable[[Phase], None],
) -> tuple[FleetInfo, list[Phase]]:
    """Every phase for one fleet size, leaving the cached fleet as it was generated."""
    cores = os.cpu_count() or 1
    fleet = generate_fleet(fleet_dir / f"{size}-{seed}", size, seed=seed)
    how = "reused" if fleet.reused else f"generated in {fleet.seconds:.1f} s"
    print(f"{'':>6}  fleet of {size} repositories + platform: {how} ({fleet.root})", flush=True)
    rows: list[Phase] = []

    def keep(row: Phase) -> Phase:
        rows.append(row)
        report(row)
        return row

    keep(run_floor(size, fleet.root, 1))
    floor = keep(run_floor(size, fleet.root, cores)).seconds
    with tempfile.TemporaryDirectory(prefix="catalog-sync-bench-") as tmp:
        url = database or f"sqlite:///{tmp}/catalog.db"
        if database:
            reset_database(database)
        config = write_config(Path(tmp), fleet.root, url, cores)
        subprocess.run(
            [str(BIN / "catalog-sync"), "db", "upgrade", "--config", str(config)],
            check=False,
            capture_output=True,
        )
        keep(run_sync(size, "full", config, startup, floor))
        keep(run_sync(size, "no-change", config, startup, floor))
        try:
            touched = touch_fraction(fleet.root, touch, seed + 1)
            keep(run_sync(size, "changed-1%", config, startup, floor, touched=len(touched)))
        finally:
            restore_fleet(fleet.root)
    return fleet, rows


def machine() -> dict[str, Any]:
    """What the figures were measured on; they mean little without it."""
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git": git,
    }


HEADER = (
    f"{'size':>6}  {'phase':<11} {'seconds':>7} {'engine':>7} {'cpu':>6} {'repos/s':>7} {'peak MiB':>8} "
    f"{'tree MiB':>8} {'anon MiB':>8} {'x floor':>7} {'noise':>5}  {'met':<4} target"
)


def format_row(row: Phase) -> str:
    """One line of the table; notes (why a check failed) follow on their own lines."""
    ratio = f"{row.floor_ratio:.2f}" if row.floor_ratio is not None else "-"
    met = "-" if row.met is None else ("yes" if row.met else "NO")
    engine = f"{row.engine_seconds:.2f}" if row.engine_seconds is not None else "-"
    line = (
        f"{row.size:>6}  {row.phase:<11} {row.seconds:>7.2f} {engine:>7} {row.cpu_seconds:>6.1f} "
        f"{row.repos_per_second:>7.0f} {row.peak_rss_mib:>8.0f} {row.tree_peak_mib:>8.0f} "
        f"{row.tree_anon_mib:>8.0f} {ratio:>7} "
        f"{row.others_busy:>5.0%}  {met:<4} {row.target}"
    )
    return "\n".join([line, *(f"{'':>8}! {note}" for note in row.notes)])


def run_benchmark(
    sizes: Sequence[int],
    *,
    seed: int = 0,
    database: str | None = None,
    fleet_dir: Path = HERE / ".fleet",
    touch: float = 0.01,
    output: Path | None = HERE / "results" / "latest.json",
) -> list[Phase]:
    """The whole benchmark: print the table as it fills, write the JSON results, answer the rows."""
    started = time.time()
    startup = measure_startup()
    print(f"start-up (interpreter + imports), subtracted from every pass: {startup:.2f} s", flush=True)
    print(HEADER, flush=True)
    rows: list[Phase] = []
    fleets = []
    for size in sizes:
        fleet, size_rows = bench_size(
            size,
            seed=seed,
            database=database,
            startup=startup,
            fleet_dir=fleet_dir,
            touch=touch,
            report=lambda row: print(format_row(row), flush=True),
        )
        fleets.append(
            {
                "size": size,
                "seed": seed,
                "reused": fleet.reused,
                "generation_seconds": round(fleet.seconds, 2),
            }
        )
        rows += size_rows
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        results = {
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "machine": machine(),
            "database": "postgresql" if database else "sqlite",
            "startup_seconds": round(startup, 3),
            "fleets": fleets,
            "targets": {
                "size": TARGET_SIZE,
                "seconds": TARGETS,
                "max_floor_ratio": MAX_FLOOR_RATIO,
                "max_peak_mib": MAX_PEAK_MIB,
            },
            "phases": [{**asdict(row), "repos_per_second": round(row.repos_per_second, 1)} for row in rows],
        }
        output.write_text(json.dumps(_rounded(results), indent=2, default=str) + "\n")
        print(f"results written to {output}")
    return rows
