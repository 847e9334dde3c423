"""Measuring 10,000 KPIs (2,500 products x 4) against a real Prometheus, round after round.

A small exporter serves one gauge per product (``bench_kpi{product="p00001"}``, 2,500 series); Debian's
Prometheus scrapes it every 5 s; the catalog holds 2,500 products with four ``prometheus`` KPIs each
(``max_over_time(bench_kpi{product="..."}[$window]) * K``). Each round is ``Measurer.run_round`` as
the schedule runs it: ``kpis.concurrency`` (8) queries in flight, every value written to SQLite with
its day's history point. Targets: one round <= 30 s, and no growth of the Python heap between rounds
(``tracemalloc``: the third round's heap no larger than the second's plus 5 MiB).

    python -m benchmarks.kpi_bench                       # 2,500 products, 3 rounds
    python -m benchmarks.kpi_bench --products 500 --rounds 2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import yaml
from sqlalchemy import insert
from werkzeug.serving import make_server

from catalog_sync.config import KpiSettings
from catalog_sync.kpis import Measurer
from catalog_sync.searchrows import build_search_rows
from catalog_sync.store.base import Database
from catalog_sync.store.engine import open_engine
from catalog_sync.store.kpis import SqlKpiStore
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.tables import entities, search

TARGET_SECONDS = 30.0
HEAP_SLACK = 5 * 1024 * 1024
KPIS_PER_PRODUCT = 4


def exporter(count: int) -> Any:
    """A WSGI app exposing one gauge per product."""
    lines = ["# TYPE bench_kpi gauge"] + [
        f'bench_kpi{{product="p{n:05d}"}} {90 + n % 10}' for n in range(count)
    ]
    body = ("\n".join(lines) + "\n").encode()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4")])
        return [body]

    return app


def seed_catalog(engine: Any, count: int) -> None:
    """``count`` products with four Prometheus KPIs each, written straight into the tables."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for n in range(count):
            name = f"p{n:05d}"
            query = f'max_over_time(bench_kpi{{product="{name}"}}[$window])'
            kpis = [
                {"name": f"kpi {k}", "category": "customer-satisfaction", "target": 95, "window": "5m",
                 "measure": {"prometheus": f"{query} * {k + 1}"}}
                for k in range(KPIS_PER_PRODUCT)
            ]  # fmt: skip
            body = {
                "apiVersion": "catalog/v1",
                "kind": "Product",
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"type": "service", "lifecycle": "production", "tier": 1 + n % 4, "kpis": kpis},
            }
            text = json.dumps(body, separators=(",", ":"))
            entity_id = conn.execute(
                insert(entities)
                .values(
                    uid=str(uuid.uuid4()), ref_key=f"product:default/{name}", kind="product",
                    namespace="default", name=name, lifecycle="production", body=text,
                    content_hash=hashlib.sha256(text.encode()).hexdigest(), etag=uuid.uuid4().hex,
                    search_text=name, created_at=now, updated_at=now,
                )
                .returning(entities.c.id)
            ).scalar_one()  # fmt: skip
            rows = [
                {"entity_id": entity_id, "key": key, "value": value, "original_value": original}
                for key, value, original in build_search_rows(body)
            ]
            conn.execute(insert(search), rows)


def start_prometheus(binary: str, target: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Prometheus scraping ``target`` every 5 s; answers once the series are in."""
    port = _free_port()
    config = folder / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "5s", "scrape_timeout": "4s"},
                "scrape_configs": [{"job_name": "bench", "static_configs": [{"targets": [target]}]}],
            }
        )
    )
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={folder / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            answer = requests.get(f"{base}/api/v1/query", params={"query": "count(bench_kpi)"}, timeout=2)
            if answer.ok and answer.json()["data"]["result"]:
                return process, base
        except requests.RequestException:
            pass
        time.sleep(0.5)
    process.kill()
    raise SystemExit("Prometheus never held the exporter's series")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kpi_bench")
    parser.add_argument("--products", type=int, default=2500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    binary = shutil.which("prometheus")
    if binary is None:
        raise SystemExit("prometheus is not installed (apt-get install -y prometheus)")
    folder = Path(tempfile.mkdtemp(prefix="kpi-bench-"))
    server = make_server("127.0.0.1", 0, exporter(args.products), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    prometheus, base = start_prometheus(binary, f"127.0.0.1:{server.server_port}", folder)
    engine = open_engine(f"sqlite:///{folder / 'catalog.db'}")
    try:
        upgrade(engine)
        seed_catalog(engine, args.products)
        settings = KpiSettings(prometheus_url=base, timeout_seconds=10, concurrency=args.concurrency)
        measurer = Measurer(settings, SqlKpiStore(Database(engine)))
        tracemalloc.start()
        results = []
        for index in range(args.rounds):
            summary = measurer.run_round()
            heap = tracemalloc.get_traced_memory()[0]
            results.append(
                {
                    "round": index + 1,
                    "kpis": summary.measured,
                    "unknown": summary.unknown,
                    "seconds": round(summary.seconds, 2),
                    "heap_mib": round(heap / 2**20, 1),
                }
            )
            print(json.dumps(results[-1]), flush=True)
        measurer.close()
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=15)
        server.shutdown()
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    slowest = max(r["seconds"] for r in results)
    grew = len(results) >= 3 and results[-1]["heap_mib"] * 2**20 > results[1]["heap_mib"] * 2**20 + HEAP_SLACK
    failed = slowest > TARGET_SECONDS or grew or any(r["unknown"] for r in results)
    print(f"slowest round {slowest} s (target {TARGET_SECONDS} s); heap growth: {'yes' if grew else 'no'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
