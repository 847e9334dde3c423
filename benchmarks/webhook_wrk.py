"""Signed deliveries sent by ``wrk``: a load generator in C whose cost per request is a few microseconds,
so the cores go to the server being measured rather than to a Python client beside it.

Each of ``--connections`` keep-alive connections sends its next delivery as soon as the last is answered
(a closed loop, as the Python clients do). The bodies are pushes to the organisation's repositories,
signed once here; every request carries its own ``X-GitHub-Delivery`` (a run's prefix and a counter per
``wrk`` thread), so none is a duplicate: the store recognises a duplicate by its id alone.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

SCRIPT = """
local bodies = {%(bodies)s}
local signatures = {%(signatures)s}
local prefix = "%(prefix)s"
local counter = 0
local created = 0

function setup(thread)
  created = created + 1
  thread:set("tid", created)
end

function request()
  counter = counter + 1
  local i = (counter %% #bodies) + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = "push",
    ["X-GitHub-Delivery"] = prefix .. "-" .. tid .. "-" .. counter,
    ["X-Hub-Signature-256"] = signatures[i],
  }
  return wrk.format("POST", "/api/webhooks/github", headers, bodies[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "status_errors": %%d, "socket_errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def _lua_string(data: bytes) -> str:
    """A Lua string literal holding ``data`` exactly (every byte escaped as decimal)."""
    return '"' + "".join(f"\\{b}" for b in data) + '"'


def wrk_binary() -> str:
    """The ``wrk`` program (Debian: ``apt-get install wrk``)."""
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed (apt-get install wrk); or use --client python")
    return found


def run_wrk(
    url: str, signed: list[tuple[bytes, str]], *, connections: int, seconds: float, threads: int = 2
) -> dict[str, Any]:
    """Send ``signed`` (body, signature) pairs round-robin for ``seconds`` over ``connections``; answer
    what ``wrk`` measured and the CPU seconds it spent."""
    script = SCRIPT % {
        "bodies": ", ".join(_lua_string(body) for body, _ in signed),
        "signatures": ", ".join(_lua_string(signature.encode()) for _, signature in signed),
        "prefix": uuid.uuid4().hex,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(
            [
                wrk_binary(), f"--threads={threads}", f"--connections={connections}",
                f"--duration={seconds:g}s", "--timeout=60s", f"--script={handle.name}", url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )  # fmt: skip
    finally:
        Path(handle.name).unlink()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed: {done.stdout}{done.stderr}")
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    result["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result
