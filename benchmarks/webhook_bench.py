"""Webhook benchmark: how fast a delivery is answered, and how soon the push shows in the catalog API.

```sh
.venv/bin/python -m benchmarks.webhook_bench                                # every phase
.venv/bin/python -m benchmarks.webhook_bench --skip-postgres                # SQLite only
.venv/bin/python -m benchmarks.webhook_bench --skip-sqlite --skip-serve     # gunicorn on PostgreSQL only
```

Three figures and a floor, each against real processes (``catalog-sync serve`` / ``worker``) over real git
repositories keyed as a GitHub organisation's (``tests.fixtures.hosted``):

- **answer latency** (p50, p99) of 50 concurrent deliveries to ``POST /api/webhooks/github`` of
  ``serve`` on SQLite (and of the API on PostgreSQL), measured at the client (queueing in the server
  included); target p99 <= 50 ms. ``--client burst`` (the default, ``webhook_burst``) sends bursts of
  50 deliveries at the same instant, as a host does when 50 pushes happen together; ``--client wrk``
  (``webhook_wrk``) and ``--client python`` keep 50 deliveries queued without pause (a closed loop),
  which measures throughput: there a delivery waits for the ~49 ahead of it, so its latency is about
  50 x the server's time per delivery divided by the cores it can use. Beside it: the same for 100
  deliveries sent one at a time, which is what one delivery costs the server; and the CPU the
  server's processes spent per delivery (their CPU time over the phase, divided by the deliveries),
  which on a shared machine says more than a latency whose queue other people's work lengthens (the
  load average at the start and the end of the phase is printed beside it);
- the same answer latency against **the floor** (``benchmarks.webhook_floor``): ``serve``'s server
  (Werkzeug's, a thread per connection) and logging around an app that accepts without checking,
  parsing or storing anything; what ``serve`` measures above it is catalog-sync's share, and a floor
  above the target says the target is out of that server's reach on the machine (``--skip-floor``);
- the same answer latency against the deployment's form on PostgreSQL: gunicorn with the Helm
  chart's default 2 workers x 4 threads on ``catalog_sync.cli:wsgi_app()``, a worker beside it;
- **push to visible under serve on SQLite** (p50, p95): a commit, its delivery, then the catalog API
  polled every 10 ms until the entity shows the change; measured from the answer; target p95 <= 1 s;
- **push to visible with a worker on PostgreSQL** (p50, p95): the same with the API in one process
  (``serve --no-sync``) and a ``worker`` (``--poll-seconds 60``, so only ``NOTIFY`` can wake it in
  time) in another; PostgreSQL is a throwaway cluster started for the run.

Results are printed and written to ``benchmarks/results/webhooks.json``; the exit status is 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import yaml

from benchmarks.mixed_server import GUNICORN_THREADS, GUNICORN_WORKER_CLASS, GUNICORN_WORKERS
from benchmarks.procfs import descendants, process_cpu
from benchmarks.webhook_burst import run_bursts
from benchmarks.webhook_wrk import run_wrk
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.hosted import (
    GITHUB_API,
    body_of,
    github_push,
    hosted_command,
    hosted_environment,
    sign,
    start_serving,
    stop_process_groups,
)

SECRET = "bench-webhook-secret-0123456789"
ANSWER_P99_TARGET = 0.050
VISIBLE_P95_TARGET = 1.0
CONCURRENCY = 50
RESULTS = Path(__file__).parent / "results" / "webhooks.json"


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (0-1) by the nearest-rank rule."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return ordered[rank]


def descriptor(name: str, description: str) -> str:
    """A Product descriptor whose description each push changes."""
    return (
        f"apiVersion: catalog/v1\nkind: Product\nmetadata:\n  name: {name}\n  description: {description}\n"
        "spec:\n  type: service\n  lifecycle: production\n  owner: payments\n"
    )


class Organisation:
    """``repositories`` git repositories of one GitHub organisation, ids 1000 + n, and a config."""

    def __init__(self, root: Path, database: str, repositories: int) -> None:
        self.root = root
        (root / "org").mkdir(parents=True)
        self.repos = {}
        for n in range(repositories):
            name = f"svc-{n:03d}"
            repo = GitRepo(root / "org" / name)
            repo.commit("first", files={"catalog-info.yaml": descriptor(name, "first")})
            self.repos[name] = repo
        ids = {name: 1000 + n for n, name in enumerate(self.repos)}
        self.ids = ids
        self.config = root / "catalog-sync.yaml"
        self.config.write_text(
            yaml.safe_dump(
                {
                    "database": database,
                    "sources": [{"name": "acme", "type": "local", "path": str(root / "org")}],
                    "sync": {"concurrency": 2},
                }
            )
        )
        hosted = {"acme": {"provider": "github", "netloc": GITHUB_API, "ids": ids}}
        self.env = hosted_environment(hosted, {"CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": SECRET})
        done = subprocess.run(
            hosted_command("sync", "--config", str(self.config)),
            cwd=root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise SystemExit(f"the first sync failed: {done.stdout}{done.stderr}")
        self.processes: list[subprocess.Popen[Any]] = []

    def serve(self, *extra: str) -> str:
        proc, url = start_serving(["serve", "--config", str(self.config), *extra], self.env, self.root)
        self.processes.append(proc)
        return url

    def gunicorn(self) -> str:
        """The API as the Helm chart runs it on PostgreSQL; answers its base URL once it is ready."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        multiproc = self.root / "prometheus"
        multiproc.mkdir(exist_ok=True)
        env = {
            **self.env,
            "CATALOG_SYNC_CONFIG": str(self.config),
            "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        }
        command = [
            sys.executable, "-m", "gunicorn",
            f"--workers={GUNICORN_WORKERS}", f"--threads={GUNICORN_THREADS}",
            f"--bind=127.0.0.1:{port}", "--log-level=warning", "--timeout=60",
            f"--worker-class={GUNICORN_WORKER_CLASS}",
            "catalog_sync.cli:wsgi_app()",
        ]  # fmt: skip
        proc = subprocess.Popen(
            command,
            cwd=self.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.processes.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(f"{url}/readyz", timeout=30).status_code == 200:
                    return url
            except requests.RequestException:  # not listening yet, or busy starting
                pass
            time.sleep(0.2)
        raise SystemExit("gunicorn did not start")

    def api_pid(self) -> int:
        """The process answering HTTP (the first started: ``serve`` or gunicorn's master)."""
        return self.processes[0].pid

    def worker(self) -> None:
        self.processes.append(
            subprocess.Popen(
                hosted_command("worker", "--config", str(self.config), "--poll-seconds", "60"),
                cwd=self.root,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )

    def stop(self) -> None:
        stop_process_groups(self.processes)
        self.processes = []


def deliver(session: requests.Session, url: str, document: dict[str, Any]) -> tuple[int, float]:
    """Send one signed push; answer its status and the seconds it took, measured here (a refusal's
    reason is printed once per status)."""
    body = body_of(document)
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(SECRET, body),
    }
    started = time.perf_counter()
    try:
        answer = session.post(f"{url}/api/webhooks/github", data=body, headers=headers, timeout=60)
    except requests.ConnectionError:
        # A kept-alive connection the server closed meanwhile (gunicorn keeps one 2 s): sent again on
        # a new one, as a host redelivers, under the same id; the time counts from the first attempt.
        answer = session.post(f"{url}/api/webhooks/github", data=body, headers=headers, timeout=60)
    took = time.perf_counter() - started
    if answer.status_code != 202 and answer.status_code not in _REPORTED:
        _REPORTED.add(answer.status_code)
        print(f"  a delivery was answered {answer.status_code}: {answer.text[:300]}", flush=True)
    return answer.status_code, took


_REPORTED: set[int] = set()


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process and its living descendants (the finished children the
    process waited for included), from ``/proc``."""
    return process_cpu(pid) + sum(process_cpu(member, waited=False) for member in descendants(pid))


def answer_latency(org: Organisation, url: str, deliveries: int, client: Client) -> dict[str, Any]:
    """``deliveries`` pushes (each naming its repository's real tip) from 50 concurrent clients, or,
    with ``wrk``, as many as 50 connections get answered in ``client.seconds``."""
    names = list(org.repos)
    heads = {name: org.repos[name].head() for name in names}
    if client.kind != "python":
        return answer_latency_driven(org, url, client, heads)
    local = threading.local()

    def one(n: int) -> tuple[int, float]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        name = names[n % len(names)]
        return deliver(session, url, github_push(org.ids[name], after=heads[name], name=f"acme/{name}"))

    alone = [one(n)[1] for n in range(100)]  # one at a time: what a delivery costs the server
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(one, range(CONCURRENCY)))  # connections opened, server threads warm
        handled_before = handling_seconds(url)
        load_before = os.getloadavg()[0]
        cpu_before = tree_cpu_seconds(org.api_pid())
        client_before = time.process_time()
        started = time.perf_counter()
        results = list(pool.map(one, range(deliveries)))
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_before
        cpu = tree_cpu_seconds(org.api_pid()) - cpu_before
        load_after = os.getloadavg()[0]
        handled_after = handling_seconds(url)
    refused = [status for status, _ in results if status != 202]
    seconds = [took for _, took in results]
    return {
        "deliveries": deliveries,
        "refused": len(refused),
        "concurrency": CONCURRENCY,
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 1),
        "p95_ms": round(percentile(seconds, 0.95) * 1000, 1),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
        "per_second": round(deliveries / elapsed, 1),
        "server_mean_ms": round(
            (handled_after[0] - handled_before[0]) / max(1.0, handled_after[1] - handled_before[1]) * 1000, 1
        ),
        "server_cpu_ms_per_delivery": round(cpu / deliveries * 1000, 2),
        "client_cpu_ms_per_delivery": round(client_cpu / deliveries * 1000, 2),
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "one_at_a_time_p50_ms": round(percentile(alone, 0.50) * 1000, 1),
        "one_at_a_time_p99_ms": round(percentile(alone, 0.99) * 1000, 1),
    }


class Client:
    """Which load generator sends the concurrent deliveries: ``burst`` (bursts of 50 at once from one
    thread), ``wrk`` (a closed loop in C: microseconds per request) or ``python`` (a closed loop of
    threads of ``requests``, about 3.5 ms of CPU per delivery on the same cores as the server)."""

    def __init__(self, kind: str, seconds: float, bursts: int) -> None:
        self.kind = kind
        self.seconds = seconds
        self.bursts = bursts

    def drive(self, url: str, signed: list[tuple[bytes, str]], *, warming: bool = False) -> dict[str, Any]:
        """Send the deliveries; the latencies in ``webhook_wrk``'s shape."""
        if self.kind == "wrk":
            return run_wrk(url, signed, connections=CONCURRENCY, seconds=1.0 if warming else self.seconds)
        return run_bursts(url, signed, connections=CONCURRENCY, bursts=2 if warming else self.bursts)


def answer_latency_driven(
    org: Organisation, url: str, client: Client, heads: dict[str, str]
) -> dict[str, Any]:
    """The concurrent phase sent by ``wrk`` or in bursts: one signed body per repository, distinct
    delivery ids."""
    signed = []
    for name, head in heads.items():
        body = body_of(github_push(org.ids[name], after=head, name=f"acme/{name}"))
        signed.append((body, sign(SECRET, body)))
    return drive_measured(url, org.api_pid(), client, signed, handled=lambda: handling_seconds(url))


def floor_latency(client: Client) -> dict[str, Any]:
    """The same bursts against ``benchmarks.webhook_floor``: ``serve``'s server and logging around an
    app that does nothing, so what the server costs shows apart from what catalog-sync adds."""
    body = body_of(github_push(1000, after="0" * 40, name="acme/svc-000"))
    proc, url = start_serving(
        [],
        os.environ,
        Path(__file__).resolve().parent.parent,
        program=[sys.executable, "-m", "benchmarks.webhook_floor"],
    )
    try:
        return drive_measured(url, proc.pid, client, [(body, sign(SECRET, body))], handled=None)
    finally:
        stop_process_groups([proc])


def drive_measured(
    url: str,
    pid: int,
    client: Client,
    signed: list[tuple[bytes, str]],
    handled: Callable[[], tuple[float, float]] | None,
) -> dict[str, Any]:
    """100 deliveries one at a time, then ``client``'s concurrent ones, measured: latencies at the
    client, the CPU of the server's process tree (``pid``), and the server's own handling time when
    it reports one (``handled``: sum and count)."""
    session = requests.Session()
    alone = [deliver(session, url, json.loads(signed[n % len(signed)][0]))[1] for n in range(100)]
    client.drive(url, signed, warming=True)  # connections opened, threads warm
    handled_before = handled() if handled else (0.0, 0.0)
    load_before = os.getloadavg()[0]
    cpu_before = tree_cpu_seconds(pid)
    measured = client.drive(url, signed)
    cpu = tree_cpu_seconds(pid) - cpu_before
    load_after = os.getloadavg()[0]
    handled_after = handled() if handled else (0.0, 0.0)
    count = max(1, int(measured["requests"]))
    return {
        "client": client.kind,
        "deliveries": count,
        "refused": int(measured["status_errors"]) + int(measured["socket_errors"]),
        "concurrency": CONCURRENCY,
        "p50_ms": round(measured["p50_us"] / 1000, 1),
        "p95_ms": round(measured["p95_us"] / 1000, 1),
        "p99_ms": round(measured["p99_us"] / 1000, 1),
        "max_ms": round(measured["max_us"] / 1000, 1),
        "per_second": round(count / (measured["duration_us"] / 1e6), 1),
        "server_mean_ms": round(
            (handled_after[0] - handled_before[0]) / max(1.0, handled_after[1] - handled_before[1]) * 1000, 1
        ),
        "server_cpu_ms_per_delivery": round(cpu / count * 1000, 2),
        "client_cpu_ms_per_delivery": round(measured["cpu_seconds"] / count * 1000, 3),
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "one_at_a_time_p50_ms": round(percentile(alone, 0.50) * 1000, 1),
        "one_at_a_time_p99_ms": round(percentile(alone, 0.99) * 1000, 1),
    }


def handling_seconds(url: str) -> tuple[float, float]:
    """The server's own time in the webhook view (``catalog_http_request_duration_seconds``: sum and
    count), which excludes the wait for a thread and the network that the client's figure includes."""
    text = requests.get(f"{url}/metrics", timeout=30).text
    found = {"sum": 0.0, "count": 0.0}
    for line in text.splitlines():
        for part in found:
            prefix = f'catalog_http_request_duration_seconds_{part}{{route="/api/webhooks/github"}} '
            if line.startswith(prefix):
                found[part] = float(line.split()[-1])
    return found["sum"], found["count"]


def push_to_visible(org: Organisation, url: str, pushes: int) -> dict[str, float]:
    """``pushes`` commits, one after the other, each delivered and awaited in the API; one push before
    them warms the scanning processes (``serve`` starts them at its first read)."""
    session = requests.Session()
    seconds: list[float] = []
    names = list(org.repos)
    for n in range(-1, pushes):
        name = names[n % len(names)]
        description = f"change {n}"
        after = org.repos[name].commit("change", files={"catalog-info.yaml": descriptor(name, description)})
        status, _ = deliver(session, url, github_push(org.ids[name], after=after, name=f"acme/{name}"))
        if status != 202:
            raise SystemExit(f"a push was answered {status}")
        answered = time.monotonic()
        while True:
            found = session.get(f"{url}/api/catalog/entities/by-name/product/default/{name}", timeout=10)
            if found.status_code == 200 and found.json()["metadata"].get("description") == description:
                if n >= 0:
                    seconds.append(time.monotonic() - answered)
                break
            if time.monotonic() - answered > 60:
                raise SystemExit(f"push {n} was not visible within 60 s")
            time.sleep(0.01)
    return {
        "pushes": pushes,
        "p50_s": round(percentile(seconds, 0.50), 3),
        "p95_s": round(percentile(seconds, 0.95), 3),
        "max_s": round(max(seconds), 3),
    }


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL cluster and a migrated database in it, as the tests start them."""
    from tests.fixtures.postgres import _find_binaries, create_database, start_cluster

    binaries = _find_binaries()
    if binaries is None:
        raise SystemExit("PostgreSQL server binaries are not installed; use --skip-postgres")
    cluster = start_cluster(binaries)
    try:
        url = create_database(cluster, template=None)
        subprocess.run(
            [sys.executable, "-m", "catalog_sync", "db", "upgrade"],
            env={**os.environ, "CATALOG_SYNC_DATABASE_URL": url},
            check=True,
            capture_output=True,
        )
        yield url
    finally:
        cluster.stop()


def run_phase(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    print(f"{name} ...", flush=True)
    result = fn()
    print(f"  {result}", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the three phases, print the table, write the results; 1 when a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.webhook_bench")
    parser.add_argument("--repositories", type=int, default=50)
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--pushes", type=int, default=40)
    parser.add_argument(
        "--client",
        choices=("burst", "wrk", "python"),
        default="burst",
        help="who sends the concurrent deliveries: bursts of 50 at once; or a closed loop kept full by "
        "wrk (little CPU; Debian's wrk) or by Python threads",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="with --client wrk: how long it sends")
    parser.add_argument("--bursts", type=int, default=40, help="with --client burst: how many")
    parser.add_argument("--skip-visible", action="store_true", help="answer latency only")
    parser.add_argument(
        "--skip-floor", action="store_true", help="without the floor: serve's server around an empty app"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-serve", action="store_true", help="on PostgreSQL: gunicorn only")
    parser.add_argument("--skip-gunicorn", action="store_true", help="on PostgreSQL: serve only")
    args = parser.parse_args(argv)
    client = Client(args.client, args.seconds, args.bursts)
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
            "python": platform.python_version(),
            "system": platform.platform(),
        },
    }
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as tmp:
        root = Path(tmp)
        if not args.skip_floor:
            results["answer_floor_werkzeug"] = run_phase(
                "answer latency, serve's server around an app that does nothing",
                lambda: floor_latency(client),
            )
        if not args.skip_sqlite:
            org = Organisation(
                root / "sqlite", f"sqlite:///{root / 'sqlite' / 'catalog.db'}", args.repositories
            )
            try:
                url = org.serve()
                results["answer_sqlite_serve"] = run_phase(
                    "answer latency, serve on SQLite",
                    lambda: answer_latency(org, url, args.deliveries, client),
                )
                if not args.skip_visible:
                    results["visible_sqlite_serve"] = run_phase(
                        "push to visible, serve on SQLite", lambda: push_to_visible(org, url, args.pushes)
                    )
            finally:
                org.stop()
        if not args.skip_postgres:
            with postgres_database() as database:
                pg = Organisation(root / "pg", database, args.repositories)
                if not args.skip_serve:
                    try:
                        api = pg.serve("--no-sync")
                        pg.worker()
                        time.sleep(2.0)  # the worker's first pass
                        results["answer_postgres_api"] = run_phase(
                            "answer latency, API on PostgreSQL",
                            lambda: answer_latency(pg, api, args.deliveries, client),
                        )
                        if not args.skip_visible:
                            time.sleep(2.0)  # the worker settles the deliveries of the latency phase
                            results["visible_postgres_worker"] = run_phase(
                                "push to visible, worker on PostgreSQL",
                                lambda: push_to_visible(pg, api, args.pushes),
                            )
                    finally:
                        pg.stop()
                if not args.skip_gunicorn:
                    try:
                        api = pg.gunicorn()
                        pg.worker()
                        time.sleep(2.0)
                        results["answer_postgres_gunicorn"] = run_phase(
                            f"answer latency, gunicorn ({GUNICORN_WORKERS} workers x {GUNICORN_THREADS} "
                            "threads) on PostgreSQL",
                            lambda: answer_latency(pg, api, args.deliveries, client),
                        )
                    finally:
                        pg.stop()
    missed = []
    for key in ("answer_sqlite_serve", "answer_postgres_api", "answer_postgres_gunicorn"):
        if key in results and results[key]["refused"]:
            missed.append(f"{key}: {results[key]['refused']} deliveries were not accepted")
        if key in results and results[key]["p99_ms"] > ANSWER_P99_TARGET * 1000:
            missed.append(f"{key}: p99 {results[key]['p99_ms']} ms > {ANSWER_P99_TARGET * 1000:.0f} ms")
    for key in ("visible_sqlite_serve", "visible_postgres_worker"):
        if key in results and results[key]["p95_s"] > VISIBLE_P95_TARGET:
            missed.append(f"{key}: p95 {results[key]['p95_s']} s > {VISIBLE_P95_TARGET} s")
    results["missed"] = missed
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    return 1 if missed else 0


ANSWERS = {
    "answer_floor_werkzeug": "floor: serve's server, no app",
    "answer_sqlite_serve": "serve on SQLite",
    "answer_postgres_api": "serve --no-sync on PostgreSQL",
    "answer_postgres_gunicorn": "gunicorn on PostgreSQL",
}


def print_table(results: dict[str, Any]) -> None:
    """The figures against their targets."""
    print()
    print(
        f"{'answer latency, 50 concurrent':32} {'p50':>7} {'p95':>7} {'p99':>7} {'alone p50':>9} "
        f"{'per s':>7} {'server CPU':>10} {'client CPU':>10}  load (start, end)"
    )
    for key, label in ANSWERS.items():
        if key in results:
            r = results[key]
            print(
                f"{label:32} {r['p50_ms']:>7} {r['p95_ms']:>7} {r['p99_ms']:>7} "
                f"{r['one_at_a_time_p50_ms']:>9} {r['per_second']:>7} "
                f"{r['server_cpu_ms_per_delivery']:>10} {r['client_cpu_ms_per_delivery']:>10}  "
                f"{r['load_average'][0]}, {r['load_average'][1]}"
            )
    clients = sorted({str(results[key].get("client", "python")) for key in ANSWERS if key in results})
    print(f"(milliseconds; CPU per delivery; sent by: {', '.join(clients)}; target p99 <= 50 ms)")
    rows = [
        ("visible p50 / p95, serve on SQLite", "visible_sqlite_serve", "p50_s", "p95_s", "s", "p95 <= 1 s"),
        (
            "visible p50 / p95, worker on PostgreSQL",
            "visible_postgres_worker",
            "p50_s",
            "p95_s",
            "s",
            "p95 <= 1 s",
        ),
    ]
    print()
    print(f"{'figure':42} {'measured':>20}  target")
    for label, key, low, high, unit, target in rows:
        if key in results:
            print(f"{label:42} {results[key][low]:>8} / {results[key][high]:<8} {unit:2}  {target}")
    for line in results["missed"]:
        print(f"MISSED {line}")


if __name__ == "__main__":
    sys.exit(main())
