"""The README's gunicorn command line, run twice on one host, as an old instance left running during an
upgrade or a second start by mistake does: the second must fail on the busy port, not bind beside the
first and silently take a share of the deliveries (which ``--reuse-port`` would let it do)."""

from __future__ import annotations

import contextlib
import shlex
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.fixtures.tools import free_port

README = Path(__file__).resolve().parents[2] / "README.md"
APP = '''\
"""Answers with the process id, so a test can tell which gunicorn answered."""
import os


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
'''
SECOND_EXIT_S = 20
"""gunicorn retries a busy port five times, a second apart, before it gives up."""


def readme_gunicorn_args() -> list[str]:
    """The arguments of the README's ``gunicorn`` line, without the program name."""
    lines = [line for line in README.read_text().splitlines() if line.startswith("gunicorn --")]
    assert len(lines) == 1, lines
    return shlex.split(lines[0])[1:]


def start(args: list[str], port: int, folder: Path) -> subprocess.Popen[str]:
    """The README's command on ``port``, serving a tiny app instead of the catalog (the flags are
    what this is about, and the catalog would need a database)."""
    argv = [str(Path(sys.executable).with_name("gunicorn"))]
    for arg in args[:-1]:  # the last is the application
        argv.append(f"127.0.0.1:{port}" if argv[-1] == "--bind" else arg)
    argv.append("readme_app:app")
    return subprocess.Popen(argv, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for_answer(url: str, until: float) -> str:
    while True:
        try:
            return requests.get(url, timeout=5).text
        except requests.ConnectionError:
            assert time.monotonic() < until, f"nothing answered at {url}"
            time.sleep(0.2)


def stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.terminate()
    output, _ = process.communicate(timeout=30)
    return output


def test_a_second_gunicorn_on_the_readme_port_fails_instead_of_sharing_it(tmp_path: Path):
    (tmp_path / "readme_app.py").write_text(APP)
    args = readme_gunicorn_args()
    port = free_port()
    first = start(args, port, tmp_path)
    try:
        wait_for_answer(f"http://127.0.0.1:{port}/", time.monotonic() + 60)
        second = start(args, port, tmp_path)
        with contextlib.suppress(subprocess.TimeoutExpired):
            second.wait(timeout=SECOND_EXIT_S)
        shared = second.poll() is None
        second_output = stop(second)
        assert not shared, "a second gunicorn bound the port beside the first and took a share of it"
        assert second.returncode != 0, second_output
        assert "Address already in use" in second_output, second_output
        assert first.poll() is None, "the first gunicorn stopped"
    finally:
        first_output = stop(first)
    assert first.returncode == 0, first_output
