"""The github benchmark's host: the local fake GitHub in a process of its own, serving a generated fleet.

A fake served from the measured process would share its interpreter lock and its CPU figures, so the
client would be charged for answering itself. Here the benchmark starts this module, reads the API's
URL from its first line, and steers it through one command a line on standard input, each answered by
one JSON line:

- ``clear``: forget the requests seen so far;
- ``counts``: the requests seen (API and git apart, conditional, 304);
- ``touch NAME ...``: move those repositories' ``pushed_at`` (after their files got a new commit);
- ``cpu``: the CPU seconds this process (and the git processes it ran) spent so far.

It stops when its standard input closes. Run as
``python -m benchmarks.github_host FLEET_ROOT TOKEN [--truncate]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.fixtures.fakegithub import FakeGitHub, fake_github

OWNER = "acme"
FIRST_ID = 1_000_000


def serve_fleet(hub: FakeGitHub, root: Path) -> dict[str, int]:
    """Every bare repository under ``root`` as a repository of the organisation; answers name -> id."""
    hub.orgs.add(OWNER)
    ids: dict[str, int] = {}
    for index, git_dir in enumerate(sorted(root.glob("*.git"))):
        name = git_dir.name.removesuffix(".git")
        ids[name] = hub.add_served(OWNER, name, git_dir, FIRST_ID + index).id
    return ids


def counts(hub: FakeGitHub) -> dict[str, int]:
    """What the host saw since the last ``clear``."""
    api, git = hub.api_requests(), hub.git_requests()
    return {
        "api_requests": len(api),
        "conditional": sum(1 for s in api if s.conditional),
        "not_modified": sum(1 for s in api if s.status == 304),
        "git_requests": len(git),
    }


def cpu_seconds() -> float:
    """CPU time of this process's threads and of the git processes it waited for."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def answer(hub: FakeGitHub, ids: dict[str, int], line: str) -> Any:
    """One command's answer."""
    command, *args = line.split()
    if command == "clear":
        hub.clear()
        return {"cleared": True}
    if command == "counts":
        return counts(hub)
    if command == "touch":
        for name in args:
            hub.touch(hub.repos[ids[name]])
        return {"touched": len(args)}
    if command == "cpu":
        return {"cpu_seconds": cpu_seconds()}
    return {"error": f"unknown command {command!r}"}


def main(argv: list[str] | None = None) -> int:
    """Serve until standard input closes."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.github_host")
    parser.add_argument("root", type=Path, help="a folder of bare repositories (benchmarks.fleet)")
    parser.add_argument("token", help="the personal token the host accepts")
    parser.add_argument("--truncate", action="store_true", help="cut every tree: reads by shallow fetch")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="github-host-") as work, fake_github(Path(work)) as hub:
        hub.tokens.add(args.token)
        ids = serve_fleet(hub, args.root)
        hub.rate_limit = hub.remaining = 10 * len(ids) + 10_000  # an Enterprise budget: no waits measured
        if args.truncate:
            hub.tree_limit = 0
        print(json.dumps({"api_url": hub.api_url, "repositories": len(ids)}), flush=True)
        for line in sys.stdin:
            if line.strip():
                print(json.dumps(answer(hub, ids, line)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
