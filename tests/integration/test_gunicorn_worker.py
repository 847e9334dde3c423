"""``FreeThreadWorker`` under a real gunicorn: a process whose threads are all busy takes no new
connection, so the next one goes to a process with a free thread instead of waiting behind the busy
ones (gunicorn's own threaded worker lets whichever process wins the race take it, about half the time
the busy one); and a burst larger than all the threads is still answered whole.

The app holds each request until the test lets it go, and names the process that holds it, so which
process took which connection is seen, not guessed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.fixtures.tools import free_port

ROOT = Path(__file__).resolve().parents[2]
WORKER_CLASS = "plugin_api.gunicorn_worker.FreeThreadWorker"
GATE = Path(os.environ.get("CATALOG_SYNC_TEST_GATE", "/nonexistent"))
DEADLINE_S = 30.0
ROUNDS = 10
"""Each round a held request fills one process and a second one is sent: gunicorn's own worker would
give the second to the busy process in about half the rounds, so ten pass by chance once in a thousand."""


def app(environ: dict[str, object], start_response: object) -> list[bytes]:
    """Hold ``/hold/<name>`` until ``<gate>/<name>.go`` exists, announcing ``<name>.<pid>`` meanwhile."""
    name = str(environ["PATH_INFO"]).rsplit("/", 1)[-1]
    (GATE / f"{name}.{os.getpid()}").touch()
    while not (GATE / f"{name}.go").exists():
        time.sleep(0.005)
    start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
    return [str(os.getpid()).encode()]


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    """gunicorn, two processes of one thread each (keep-alive 10 s) serving ``app``; URL, gate, process."""
    gate = tmp_path / "gate"
    gate.mkdir()
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "1", "--keep-alive", "10",
        "--worker-class", WORKER_CLASS, "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT),
        "tests.integration.test_gunicorn_worker:app",
    ]  # fmt: skip
    env = {**os.environ, "CATALOG_SYNC_TEST_GATE": str(gate)}
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        (gate / "ready.go").touch()
        until = time.monotonic() + 60
        pids: set[str] = set()
        while len(pids) < 2:  # both processes up: ask until each has answered once
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < until, "gunicorn did not start two processes"
            try:
                pids.add(requests.get(f"{base}/hold/ready", timeout=5).text)
            except requests.ConnectionError:
                time.sleep(0.1)
        yield base, gate, server
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
        assert "Traceback" not in output, output


@pytest.fixture
def held(gunicorn: tuple[str, Path, subprocess.Popen[str]]) -> tuple[str, Path]:
    """The running ``gunicorn``'s URL and gate folder."""
    return gunicorn[0], gunicorn[1]


def holder(gate: Path, name: str) -> str:
    """The process id holding request ``name``, once it is in the app."""
    until = time.monotonic() + DEADLINE_S
    while not (found := list(gate.glob(f"{name}.[0-9]*"))):
        assert time.monotonic() < until, f"request {name} never reached the app"
        time.sleep(0.005)
    return found[0].suffix[1:]


def test_a_busy_process_leaves_the_next_connection_to_the_free_one(held: tuple[str, Path]):
    base, gate = held
    with ThreadPoolExecutor(2) as pool:
        for n in range(ROUNDS):
            first: Future[requests.Response] = pool.submit(requests.get, f"{base}/hold/a{n}", timeout=30)
            busy = holder(gate, f"a{n}")
            time.sleep(0.05)  # the busy process's main thread has looked at its threads again
            second = pool.submit(requests.get, f"{base}/hold/b{n}", timeout=30)
            free = holder(gate, f"b{n}")  # in the app while the first is still held
            assert free != busy
            (gate / f"a{n}.go").touch()
            (gate / f"b{n}.go").touch()
            assert {first.result().text, second.result().text} == {busy, free}


def test_a_burst_larger_than_every_thread_is_answered_whole(held: tuple[str, Path]):
    """Twelve at once for two threads: ten wait in the kernel's queue, none is refused or lost."""
    base, gate = held
    for n in range(12):
        (gate / f"c{n}.go").touch()
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda n: requests.get(f"{base}/hold/c{n}", timeout=DEADLINE_S), range(12)))
    assert [answer.status_code for answer in answers] == [200] * 12


def test_a_stopping_server_answers_the_connections_waiting_in_the_kernels_queue(
    gunicorn: tuple[str, Path, subprocess.Popen[str]],
):
    """Both threads held and two more requests sent and waiting for one when gunicorn gets SIGTERM, as a
    pod does: all four are answered (gunicorn's own worker had taken the two; left in the queue, they
    were reset when the processes closed the socket)."""
    base, gate, server = gunicorn
    port = int(base.rsplit(":", 1)[1])
    with ThreadPoolExecutor(2) as pool:
        held_ones = [pool.submit(requests.get, f"{base}/hold/{name}", timeout=DEADLINE_S) for name in "ab"]
        assert holder(gate, "a") != holder(gate, "b")  # one in each process: no thread is free
        waiting = [socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) for _ in range(2)]
        for n, connection in enumerate(waiting):
            connection.sendall(f"GET /hold/w{n} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".encode())
        time.sleep(0.2)
        server.terminate()
        time.sleep(0.5)  # both processes are stopping before a thread is free
        for name in ("a", "b", "w0", "w1"):
            (gate / f"{name}.go").touch()
        assert [answer.result().status_code for answer in held_ones] == [200, 200]
        for connection in waiting:
            with connection:
                assert connection.makefile("rb").readline().startswith(b"HTTP/1.1 200 ")


def test_a_process_whose_arbiter_died_takes_no_new_connection(
    gunicorn: tuple[str, Path, subprocess.Popen[str]],
):
    """The arbiter killed while a process holds an idle keep-alive connection: that process finishes it
    and exits, listening no more (it listened again, answering new connections and keeping them alive,
    so under traffic it ran on until the graceful timeout)."""
    base, gate, server = gunicorn
    (gate / "k.go").touch()
    (gate / "late.go").touch()
    with requests.Session() as client:
        orphan = int(client.get(f"{base}/hold/k", timeout=DEADLINE_S).text)  # kept alive, idle
        server.kill()
        try:
            time.sleep(2)  # the processes have seen their arbiter gone (they look every second)
            with pytest.raises(requests.RequestException):
                requests.get(f"{base}/hold/late", timeout=5)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(orphan, signal.SIGKILL)
