"""The chart's wiring, run for real: the containers' commands, arguments and environment exactly as
rendered, with their volumes as local folders, against a throwaway PostgreSQL.

The migration Job migrates an empty database; the API under gunicorn then answers ``/readyz`` and takes
the API token from the chart's Secret; a worker completes a pass over a real git repository and the
API shows what it read. Only the image is missing: the programs are this checkout's.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.e2e.helm.conftest import Chart, find
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.postgres import PostgresCluster, create_database, drop_database
from tests.fixtures.tools import free_port

SQLITE = "sqlite:///"
STARTUP_DEADLINE_S = 180
"""Generous: on a loaded two-core CI machine gunicorn and a first pass can take a while."""
API_TOKEN = "chart-wiring-token-0123456789"
PRODUCT = """\
apiVersion: catalog/v1
kind: Product
metadata:
  name: checkout
spec:
  type: service
  lifecycle: production
  owner: payments
"""


@dataclass
class Container:
    """One rendered container made runnable here: its argv, environment and working folder."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    mounts: dict[str, Path]


def _secret_value(objects: list[dict[str, Any]], ref: dict[str, Any]) -> str | None:
    secret = next(
        (o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == ref["name"]), None
    )
    if secret is None or ref["key"] not in secret.get("data", {}):
        assert ref.get("optional"), f"secret {ref['name']} key {ref['key']} is not rendered"
        return None
    return base64.b64decode(secret["data"][ref["key"]]).decode()


def runnable(objects: list[dict[str, Any]], workload: dict[str, Any], root: Path) -> Container:
    """The workload's first container with each volume a local folder (ConfigMaps written out) and every
    mount path in its arguments, environment and configuration file pointed at that folder."""
    spec = workload["spec"]["template"]["spec"]
    container = spec["containers"][0]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts: dict[str, Path] = {}
    for mount in container["volumeMounts"]:
        folder = root / workload["metadata"]["name"] / mount["name"]
        folder.mkdir(parents=True, exist_ok=True)
        mounts[mount["mountPath"]] = folder
        volume = volumes[mount["name"]]
        assert "emptyDir" in volume or "configMap" in volume, f"no local stand-in for volume {volume}"
    # Longest first, so /var/cache/x is taken before a shorter mount path could be; one replacement
    # per value, so a local folder (itself under /tmp) is never rewritten again.
    ordered = sorted(mounts.items(), key=lambda item: -len(item[0]))

    def local(text: str) -> str:
        # An option's value (--x=/path) and a SQLite URL's file (sqlite:////path) are paths too.
        head, value = "", text
        if text.startswith("--") and "=" in text:
            head, value = text.split("=", 1)[0] + "=", text.split("=", 1)[1]
        elif text.startswith(SQLITE):
            head, value = SQLITE, text[len(SQLITE) :]
        for mount_path, folder in ordered:
            if value == mount_path or value.startswith(mount_path + "/"):
                return head + str(folder) + value[len(mount_path) :]
        return text

    def localised(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: localised(v) for k, v in node.items()}
        if isinstance(node, list):
            return [localised(v) for v in node]
        return local(node) if isinstance(node, str) else node

    for mount in container["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            config_map = find(objects, "ConfigMap", volume["configMap"]["name"])
            for name, text in config_map["data"].items():
                config = localised(yaml.safe_load(text))
                (mounts[mount["mountPath"]] / name).write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CATALOG_SYNC_", "PROMETHEUS_"))}
    for variable in container["env"]:
        if "value" in variable:
            env[variable["name"]] = local(variable["value"])
        else:
            value = _secret_value(objects, variable["valueFrom"]["secretKeyRef"])
            if value is not None:
                env[variable["name"]] = value
    program = Path(sys.executable).with_name(container["command"][0])
    assert program.is_file(), f"{container['command'][0]} is not installed beside this Python"
    argv = [str(program), *container["command"][1:], *(local(a) for a in container.get("args", []))]
    return Container(argv, env, mounts.get("/tmp", root), mounts)


@pytest.fixture
def database(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """An empty PostgreSQL database, as a fresh installation meets it."""
    url = create_database(postgres_cluster, template=None)
    try:
        yield url
    finally:
        drop_database(postgres_cluster, url)


def _wait_for(url: str, until: float, **kwargs: Any) -> requests.Response:
    while True:
        try:
            answer = requests.get(url, timeout=15, **kwargs)
            if answer.status_code == 200:
                return answer
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or slow on a busy machine: ask again until the deadline
        assert time.monotonic() < until, f"{url} did not answer 200 in time"
        time.sleep(0.2)


def _listening_sockets(port: int) -> int:
    """How many TCP sockets listen on ``port`` (IPv4, any address), from ``/proc/net/tcp``."""
    listening = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
            listening += 1
    return listening


def _stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    output, _ = process.communicate()
    return output


@pytest.mark.postgres
@pytest.mark.slow
def test_the_rendered_job_api_and_worker_run_against_postgresql(chart: Chart, database: str, tmp_path: Path):
    repo = GitRepo(tmp_path / "repos" / "checkout")  # a file:// URL: no mount path is its prefix
    repo.commit("add the descriptor", files={"catalog-info.yaml": PRODUCT})
    api_port, metrics_port = free_port(), free_port()
    objects = chart.render(
        values={
            "database": {"type": "postgresql", "url": database},
            "secrets": {"apiTokens": [API_TOKEN]},
            "api": {"replicas": 2, "port": api_port, "gunicorn": {"workers": 2, "threads": 2}},
            "worker": {"enabled": True, "replicas": 2, "metricsPort": metrics_port, "pollSeconds": 0.5},
            "config": {"sources": [{"name": "checkout", "type": "git", "url": repo.url, "branch": "main"}]},
        }
    )
    migrate = runnable(objects, find(objects, "Job", "-migrate"), tmp_path)
    done = subprocess.run(
        migrate.argv,
        env=migrate.env,
        cwd=migrate.cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "database schema is up to date" in done.stdout

    api = runnable(objects, find(objects, "Deployment", "-api"), tmp_path)
    worker = runnable(objects, find(objects, "Deployment", "-worker"), tmp_path)
    processes = []
    try:
        for container in (api, worker):
            processes.append(
                subprocess.Popen(
                    container.argv,
                    env=container.env,
                    cwd=container.cwd,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        base = f"http://127.0.0.1:{api_port}"
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        _wait_for(f"{base}/readyz", deadline)
        _wait_for(f"{base}/healthz", deadline)
        # One socket that every gunicorn process takes from: a process that hangs or dies leaves the
        # connections waiting there to the other (the worker class spreads a burst across them).
        assert _listening_sockets(api_port) == 1
        assert requests.post(f"{base}/api/sync", timeout=30).status_code == 401
        authorised = requests.post(
            f"{base}/api/sync", headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=30
        )
        assert authorised.status_code == 202, authorised.text
        while True:
            runs = _wait_for(f"{base}/api/sync/runs", deadline).json()["items"]
            entity = requests.get(f"{base}/api/catalog/entities/by-name/product/default/checkout", timeout=30)
            if runs and entity.status_code == 200:
                break
            assert time.monotonic() < deadline, f"no pass was completed by the worker: {runs}"
            time.sleep(0.3)
        assert entity.json()["spec"]["owner"] == "payments"
        metrics = _wait_for(f"http://127.0.0.1:{metrics_port}/metrics", deadline).text
        assert "catalog_sync_runs_total" in metrics
        assert list(worker.mounts["/var/cache/catalog-sync"].iterdir()), (
            "the clone cache is not on its volume"
        )
        # gunicorn's workers share their counters through the multiprocess folder the chart mounts.
        assert list(Path(api.env["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"))
    finally:
        outputs = [_stop(p) for p in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output


def _start(container: Container) -> subprocess.Popen[str]:
    return subprocess.Popen(
        container.argv,
        env=container.env,
        cwd=container.cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
def test_the_rendered_sqlite_api_serves_and_syncs_in_one_process(chart: Chart, tmp_path: Path):
    repo = GitRepo(tmp_path / "repos" / "checkout")
    repo.commit("add the descriptor", files={"catalog-info.yaml": PRODUCT})
    port = free_port()
    objects = chart.render(
        values={
            "api": {"port": port},
            "config": {"sources": [{"name": "checkout", "type": "git", "url": repo.url, "branch": "main"}]},
        }
    )
    assert not [o for o in objects if o["kind"] in ("Job", "Secret")]
    api = runnable(objects, find(objects, "Deployment", "-api"), tmp_path)
    assert api.env["CATALOG_SYNC_DATABASE_URL"].startswith(SQLITE + str(tmp_path)), (
        "the file is not on its volume"
    )
    process = _start(api)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        _wait_for(f"{base}/readyz", deadline)
        _wait_for(f"{base}/api/catalog/entities/by-name/product/default/checkout", deadline)
        assert (api.mounts["/var/lib/catalog-sync"] / "catalog.db").is_file()
    finally:
        output = _stop(process)
    assert process.returncode == 0, output
