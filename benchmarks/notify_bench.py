"""What notifications cost a re-score, and how fast the outbox empties, at fleet size.

The catalog is ``benchmarks/fleet.py``'s fleet of real git repositories (10,000 products by default),
read by a real sync pass into a fresh SQLite database, with one more scorecard given as a file
(``scorecards.paths``): ``bronze`` asks for an owner, ``silver`` for a name matching ``^svc-``, which
every product has. Its change to ``^svc-\\d{4}[1-9]$`` drops every tenth product (the names ending in 0:
1,000 of 10,000) from silver to bronze, and makes the next re-score a full one.

- ``re-score``: that full re-score, timed without notifications configured and with one webhook
  channel taking ``level_dropped`` (the outbox written in the same transaction), alternately,
  ``--repeat`` times each; the scorecard is put back and the outbox emptied between runs (not timed).
  The figures are the medians; target: with notifications at most 10% slower, judged on the
  process's CPU time (wall time is printed too; on a machine shared with other work it varies more
  between runs than the difference measured).
- ``deliver``: the 1,000 events of one more re-score delivered by the delivery loop to a local
  receiver that checks each signature and answers 200; timed from the loop's start until the
  outbox holds nothing pending; target: at most 10 s.

    python -m benchmarks.notify_bench                 # 10,000 products
    python -m benchmarks.notify_bench --size 1000     # a quicker look (1,000 products, 100 dropped)

The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, select

from benchmarks.fleet import generate_fleet
from catalog_sync.config import Settings, parse_settings
from catalog_sync.notify import Deliverer, DeliveryLoop, routes_of
from catalog_sync.scoring import Scorer
from catalog_sync.store.base import Database
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.outbox import SqlOutbox
from catalog_sync.store.outbox.store import pending_count
from catalog_sync.store.scoring import SqlScoringStore
from catalog_sync.store.sync_sql import SqlSyncStore
from catalog_sync.store.tables import notifications
from catalog_sync.sync import SyncEngine
from tests.fixtures.receivers import receiver

HERE = Path(__file__).resolve().parent
MAX_SLOWDOWN = 1.10
MAX_DELIVERY_SECONDS = 10.0
SECRET = "benchmark-signing-secret-0001"
CARD = """\
apiVersion: catalog/v1
kind: Scorecard
metadata: {{name: bench-readiness, title: Benchmark readiness}}
spec:
  appliesTo: [kind=product]
  levels: [bronze, silver]
  checks:
    - {{id: owner, title: An owner, level: bronze, rule: {{field: spec.owner, exists: true}}}}
    - {{id: named, title: A fleet name, level: silver, rule: {{field: metadata.name, matches: '{pattern}'}}}}
"""
BEFORE, AFTER = "^svc-", "^svc-\\d{4}[1-9]$"


def _settings(fleet: Path, card: Path, url: str) -> Settings:
    config = {
        "sources": [{"name": "fleet", "type": "local", "path": str(fleet)}],
        "scorecards": {"paths": [str(card)]},
        "notifications": {
            "channels": [
                {
                    "name": "bench",
                    "type": "webhook",
                    "url_env": "BENCH_HOOK_URL",
                    "secret_env": "BENCH_HOOK_SECRET",
                    "events": ["level_dropped"],
                }
            ],
            "batch_size": 100,
            "concurrency": 8,
            "timeout_seconds": 5,
        },
    }
    return parse_settings(config, environ={"BENCH_HOOK_URL": url, "BENCH_HOOK_SECRET": SECRET})


def _rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(notifications)).scalar_one())


def _empty_outbox(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(notifications))


def run(engine: Engine, size: int, seed: int, fleet_dir: Path, repeat: int, url: str) -> dict[str, Any]:
    """Build the catalog on ``engine``, then time the re-scores and the delivery."""
    upgrade(engine)
    fleet = generate_fleet(fleet_dir / f"{size}-{seed}", size, seed=seed)
    card = Path(tempfile.mkdtemp(prefix="catalog-sync-notify-bench-")) / "bench-readiness.yaml"
    card.write_text(CARD.format(pattern=BEFORE))
    settings = _settings(fleet.root, card, url)
    database = Database(engine)
    quiet = Scorer(settings, SqlScoringStore(database))
    notifying = Scorer(settings, SqlScoringStore(database, routes=routes_of(settings.notifications)))
    started = time.perf_counter()
    SyncEngine(settings, SqlSyncStore(database)).run_pass()
    print(
        f"synced {fleet.repositories} repositories in {time.perf_counter() - started:.1f} s", file=sys.stderr
    )
    quiet.rescore(None)
    seconds: dict[str, list[float]] = {"without": [], "with": []}
    cpu: dict[str, list[float]] = {"without": [], "with": []}
    written: list[int] = []
    for _ in range(repeat):
        for mode, scorer in (("without", quiet), ("with", notifying)):
            card.write_text(CARD.format(pattern=AFTER))
            started, used = time.perf_counter(), time.process_time()
            summary = scorer.rescore([])
            seconds[mode].append(time.perf_counter() - started)
            cpu[mode].append(time.process_time() - used)
            assert summary.full, "a changed scorecard re-scores everything"
            if mode == "with":
                written.append(_rows(engine))
            card.write_text(CARD.format(pattern=BEFORE))
            quiet.rescore([])
            _empty_outbox(engine)
    card.write_text(CARD.format(pattern=AFTER))
    notifying.rescore([])
    events = _rows(engine)
    loop = DeliveryLoop(Deliverer(settings.notifications, SqlOutbox(database)))
    started = time.perf_counter()
    loop.start()
    while pending_count(database) and time.perf_counter() - started < 120:
        time.sleep(0.05)
    delivery = time.perf_counter() - started
    loop.stop()
    without, with_ = statistics.median(seconds["without"]), statistics.median(seconds["with"])
    cpu_without, cpu_with = statistics.median(cpu["without"]), statistics.median(cpu["with"])
    return {
        "products": size,
        "rescore_without_seconds": round(without, 3),
        "rescore_with_seconds": round(with_, 3),
        "rescore_runs": {mode: [round(s, 3) for s in runs] for mode, runs in seconds.items()},
        "slowdown_ratio": round(with_ / without, 3),
        "rescore_without_cpu_seconds": round(cpu_without, 3),
        "rescore_with_cpu_seconds": round(cpu_with, 3),
        "cpu_slowdown_ratio": round(cpu_with / cpu_without, 3),
        "events_written_per_rescore": written,
        "events_delivered": events - pending_count(database),
        "delivery_seconds": round(delivery, 3),
        "deliveries_per_second": round(events / delivery, 1) if delivery else None,
    }


def main(argv: list[str] | None = None) -> int:
    """Run on SQLite; print the figures and ratios; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=10_000, help="products in the fleet (default 10,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timed re-scores of each kind (default 3)")
    parser.add_argument("--fleet-dir", type=Path, default=HERE / ".fleet")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="catalog-sync-notify-bench-") as folder,
        receiver([200], secret=SECRET) as hook,
    ):
        engine = open_engine(f"sqlite:///{Path(folder) / 'catalog.db'}")
        report = run(engine, args.size, args.seed, args.fleet_dir, max(1, args.repeat), hook.url)
        engine.dispose()
        report["receiver_requests"] = len(hook.requests)
        report["signatures_verified"] = sum(1 for r in hook.requests if r.signature_ok)
    expected = args.size // 10
    checks = {
        "slowdown <= 1.10 (CPU time)": report["cpu_slowdown_ratio"] <= MAX_SLOWDOWN,
        "delivery <= 10 s": report["delivery_seconds"] <= MAX_DELIVERY_SECONDS,
        f"{expected} events written per re-score": all(
            n == expected for n in report["events_written_per_rescore"]
        ),
        f"{expected} delivered, each once": report["events_delivered"]
        == report["receiver_requests"]
        == expected,
    }
    report["checks"] = checks
    print(f"\nnotifications at {args.size} products on sqlite ({expected} dropped a level)")
    print(f"  re-score without notifications  {report['rescore_without_seconds']:>8.3f} s (median)")
    print(f"  re-score with notifications     {report['rescore_with_seconds']:>8.3f} s (median)")
    print(f"  ratio (wall time)               {report['slowdown_ratio']:>8.3f}")
    cpu_figures = (
        f"{report['rescore_without_cpu_seconds']:.3f} s / {report['rescore_with_cpu_seconds']:.3f} s"
    )
    print(f"  CPU time without / with         {cpu_figures}")
    print(
        f"  ratio (CPU time)                {report['cpu_slowdown_ratio']:>8.3f}   (target <= {MAX_SLOWDOWN})"
    )
    print(f"  events written per re-score     {report['events_written_per_rescore']}")
    delivered = f"{report['events_delivered']:>8} in {report['delivery_seconds']:.3f} s"
    print(
        f"  delivered                       {delivered} ({report['deliveries_per_second']}/s; "
        f"target <= {MAX_DELIVERY_SECONDS:g} s), {report['signatures_verified']} signatures verified"
    )
    for name, met in checks.items():
        print(f"  {'met ' if met else 'MISSED'} {name}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
