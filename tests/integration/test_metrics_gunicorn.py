"""Counters and histograms under gunicorn with several worker processes (prometheus-client's
multiprocess mode, switched on by ``PROMETHEUS_MULTIPROC_DIR``).

Requests are spread over three workers; whichever worker answers a scrape must report every worker's
requests, and the catalog gauges must be the same from each.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import yaml
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from catalog_sync.config import load_settings
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.sync import SyncEngine
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.syncstore import sync_store
from tests.fixtures.tools import free_port
from tests.integration.conftest import product_yaml

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
REQUESTS = 60


def wsgi() -> Flask:
    """gunicorn's app factory here: the production app, ``/metrics`` included."""
    from catalog_sync.cli import wsgi_app

    app: Flask = wsgi_app()
    return app


@pytest.fixture
def gunicorn_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A synced catalog served by gunicorn with three workers in multiprocess mode."""
    for name in ("pay", "cart"):
        GitRepo(tmp_path / "repos" / name).commit("init", files={"catalog-info.yaml": product_yaml(name)})
    config = tmp_path / "catalog-sync.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{tmp_path / 'catalog.db'}",
                "sources": [{"name": "local", "type": "local", "path": str(tmp_path / "repos")}],
                "sync": {"cache_dir": str(tmp_path / "cache")},
            }
        )
    )
    settings = load_settings(str(config))
    engine = open_engine(settings.database)
    upgrade(engine)
    SyncEngine(settings, sync_store(engine)).run_pass()
    engine.dispose()

    multiproc = tmp_path / "prometheus-multiproc"
    multiproc.mkdir()
    port = free_port()
    env = {**os.environ, "CATALOG_SYNC_CONFIG": str(config), "PROMETHEUS_MULTIPROC_DIR": str(multiproc)}
    command = [
        sys.executable, "-m", "gunicorn",
        "--workers", str(WORKERS),
        "--bind", f"127.0.0.1:{port}",
        "--chdir", str(ROOT),
        "tests.integration.test_metrics_gunicorn:wsgi()",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass  # not listening yet, or the workers are still importing the app
            if server.poll() is not None or time.monotonic() > deadline:
                output = server.stdout.read() if server.stdout else ""
                pytest.fail(f"gunicorn did not start:\n{output[-3000:]}")
            time.sleep(0.1)
        yield base, multiproc
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()


def _scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = requests.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


HEALTHZ = ("catalog_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))
HEALTHZ_TIMED = ("catalog_http_request_duration_seconds_count", (("route", "/healthz"),))


def test_every_worker_s_requests_are_counted_whoever_answers_the_scrape(
    gunicorn_server: tuple[str, Path], promtool: Path
) -> None:
    base, multiproc = gunicorn_server
    before = _scrape(base)[HEALTHZ]
    host, port = base.removeprefix("http://").split(":")

    def hit(_: int) -> int:
        return requests.get(f"{base}/healthz", timeout=10).status_code

    # A request whose headers are not finished keeps one worker waiting on it, so the others must
    # answer the rest: the requests are spread over at least two processes whatever the scheduler does.
    with socket.create_connection((host, int(port)), timeout=30) as held:
        held.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        time.sleep(0.5)
        with ThreadPoolExecutor(max_workers=6) as pool:
            assert set(pool.map(hit, range(REQUESTS))) == {200}
        held.sendall(b"Connection: close\r\n\r\n")
        answer = held.recv(1024)
    assert answer.startswith(b"HTTP/1.1 200")

    writers = {path.stem.rsplit("_", 1)[1] for path in multiproc.glob("counter_*.db")}
    assert len(writers) >= 2, "the requests should have been answered by more than one worker"
    scrapes = [_scrape(base) for _ in range(2 * WORKERS)]
    assert {s[HEALTHZ] for s in scrapes} == {before + REQUESTS + 1}
    assert {s[HEALTHZ_TIMED] for s in scrapes} == {before + REQUESTS + 1}
    entities = {s[("catalog_entities", (("kind", "product"), ("lifecycle", "production")))] for s in scrapes}
    assert entities == {2.0}
    exposition = requests.get(f"{base}/metrics", timeout=10).text
    checked = subprocess.run(
        [str(promtool), "check", "metrics"], input=exposition, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
