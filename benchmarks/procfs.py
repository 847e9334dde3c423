"""What the benchmarks read of processes from ``/proc``: a process's descendants and CPU seconds.

The servers, hosts and workers a benchmark starts run in processes of their own; their CPU and memory
are read here rather than through a library, so the figures count exactly the processes named.
"""

from __future__ import annotations

import os
from pathlib import Path


def descendants(pid: int) -> list[int]:
    """The living children of ``pid``, their children and so on (``pid`` itself not included)."""
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                children = [int(part) for part in task.read_text().split()]
            except OSError:
                continue
            found += children
            frontier += children
    return found


def process_cpu(pid: int, *, waited: bool = True) -> float:
    """A process's user and system CPU seconds, with those of the children it has waited for
    (``waited``); 0 for a process that is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11 : 15 if waited else 13]) / os.sysconf("SC_CLK_TCK")
