"""The server side of the mixed-load benchmark: the catalog it serves, the server process, its memory.

The catalog is built with the CLI a deployment uses (``db upgrade``, then ``sync``, which scores),
the server is started as an operator would start it, and its memory is read from ``/proc`` for the
whole process tree (gunicorn's master and workers), so the figures are those of a real deployment.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.fleet import generate_fleet
from benchmarks.procfs import descendants

GUNICORN_WORKERS = 2
GUNICORN_THREADS = 16
GUNICORN_WORKER_CLASS = "plugin_api.gunicorn_worker.FreeThreadWorker"


def _cli(*args: str, config: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "catalog_sync", *args, "--config", str(config)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"catalog-sync {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def build_catalog(folder: Path, database: str, size: int, seed: int, fleet_dir: Path) -> Path:
    """The fleet, synced and scored into ``database`` by the CLI; answers the configuration file."""
    started = time.perf_counter()
    fleet = generate_fleet(fleet_dir / f"{size}-{seed}", size, seed=seed)
    config = folder / "catalog-sync.yaml"
    config.write_text(
        json.dumps(
            {
                "database": database,
                "sources": [{"name": "fleet", "type": "local", "path": str(fleet.root)}],
                "sync": {"cache_dir": str(folder / "cache")},
            }
        )
    )
    _cli("db", "upgrade", config=config)
    summary = json.loads(_cli("sync", "--format", "json", config=config))
    print(
        f"catalog: {fleet.repositories} repositories synced and scored in "
        f"{time.perf_counter() - started:.0f} s ({summary['added']} entities)",
        flush=True,
    )
    return config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(kind: str, port: int) -> list[str]:
    """The command line of one kind of server, as an operator would type it."""
    if kind == "serve":
        return [sys.executable, "-m", "catalog_sync", "serve", "--no-sync", "--port", str(port)]
    return [
        sys.executable, "-m", "gunicorn",
        "--workers", str(GUNICORN_WORKERS), "--threads", str(GUNICORN_THREADS),
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--worker-class", GUNICORN_WORKER_CLASS,
        "catalog_sync.cli:wsgi_app()",
    ]  # fmt: skip


@contextmanager
def running_server(kind: str, config: Path, folder: Path) -> Iterator[tuple[int, int]]:
    """Start a server on a free port of 127.0.0.1 and wait until it is ready; yields ``(pid, port)``."""
    port = _free_port()
    multiproc = folder / f"prometheus-{kind}"
    multiproc.mkdir(exist_ok=True)
    env = {**os.environ, "CATALOG_SYNC_CONFIG": str(config)}
    if kind == "gunicorn":
        env["PROMETHEUS_MULTIPROC_DIR"] = str(multiproc)
    log = (folder / f"{kind}.log").open("w")
    command = server_command(kind, port)
    if kind == "serve":
        command += ["--config", str(config)]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    try:
        deadline = time.monotonic() + 120
        while _status(port, "/readyz") != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{kind} did not start:\n{(folder / f'{kind}.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield server.pid, port
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _status(port: int, path: str) -> int:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path)
        status = connection.getresponse().status
        connection.close()
        return status
    except OSError:
        return 0


def scored_scorecards(port: int) -> list[str]:
    """The names of the scorecards that have results, as the server lists them."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/api/scorecards?limit=100")
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    names = [item["name"] for item in body.get("items", []) if item["summary"]["entities"]]
    if not names:
        raise SystemExit("the server has no scorecards: was the catalog scored?")
    return names


def tree_memory(pid: int) -> dict[str, float]:
    """PSS, RSS and anonymous memory (MiB) summed over a process and its descendants, from /proc."""
    totals = {"pss": 0.0, "rss": 0.0, "anon": 0.0}
    fields = {"Pss:": "pss", "Rss:": "rss", "Anonymous:": "anon"}
    for member in [pid, *descendants(pid)]:
        try:
            lines = Path(f"/proc/{member}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts and parts[0] in fields:
                totals[fields[parts[0]]] += int(parts[1]) / 1024
    return {key: round(value, 1) for key, value in totals.items()}
