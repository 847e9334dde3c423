"""What each hosted repository's tip was when the host last reported a given push time.

A host lists ``pushed_at`` (GitHub) or ``last_activity_at`` (GitLab) with every repository; while it has
not moved, the tip has not either, and asking for it again would cost one request per repository on
every pass. This small state remembers the tip per repository id beside the push time it was read at.
It is an append-only file of JSON lines under the source's cache folder (a tip learned in a worker
thread costs one short append, and a restarted worker keeps its knowledge), compacted at each listing.
A branch the host answered has no commit yet (an empty repository) is remembered as ``EMPTY``, so it
costs no request either until its push time moves.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")

EMPTY = "empty"
"""The tip of a branch with no commit yet: the repository is empty (``EmptyRepositoryError``)."""


@dataclass(frozen=True)
class KnownTip:
    """A tip and what it was read under."""

    pushed_at: str
    branch: str
    tip: str
    read_at: float = 0.0
    """When the tip was read (epoch seconds): a host that moves its push time lazily (GitLab moves
    ``last_activity_at`` at most once an hour) trusts it only for tips read after that delay."""


class TipState:
    """Tips by repository id, persisted in ``path`` (created on first write)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._tips: dict[int, KnownTip] = {}
        self._folder_made = False
        self._compacted = False
        """Whether the file holds exactly ``_tips``, one line each (appending a repository's first tip
        keeps it so: the first listing after a full read rewrites nothing)."""
        with contextlib.suppress(OSError):
            for line in path.read_text(encoding="utf-8").splitlines():
                # RecursionError: a damaged line nested deeper than the parser goes does not parse.
                with contextlib.suppress(ValueError, KeyError, TypeError, RecursionError):
                    row = json.loads(line)
                    if row["tip"] is None:  # forgotten (``forget``)
                        self._tips.pop(int(row["id"]), None)
                    elif _SHA.match(str(row["tip"])) or row["tip"] == EMPTY:
                        self._tips[int(row["id"])] = KnownTip(
                            str(row["at"]), str(row["branch"]), str(row["tip"]), float(row.get("read", 0))
                        )

    def known(self, repository_id: int, pushed_at: str, branch: str) -> str | None:
        """The tip read while the host reported ``pushed_at``, on ``branch``; None when it moved."""
        known = self.entry(repository_id, pushed_at, branch)
        return known.tip if known is not None else None

    def entry(self, repository_id: int, pushed_at: str, branch: str) -> KnownTip | None:
        """Like ``known``, with when the tip was read. Asked by every tip thread, so it takes no lock:
        one dictionary read is atomic, and a tip recorded meanwhile is the next pass's to see."""
        known = self._tips.get(repository_id)
        if known is None or not pushed_at or known.pushed_at != pushed_at or known.branch != branch:
            return None
        return known

    def record(
        self, repository_id: int, pushed_at: str, branch: str, tip: str, *, read_at: float | None = None
    ) -> None:
        """Remember a tip (or ``EMPTY``) read under ``pushed_at``; one appended line, written with one
        system call (the lock is held by every tip thread of a full pass in turn, so it must be short).

        ``read_at`` is when the host answered by its own clock, the clock its push times are on; never
        later than this machine's, so a host's clock running ahead costs a request, never a push."""
        if not pushed_at or not (_SHA.match(tip) or tip == EMPTY):
            return
        now = time.time() if read_at is None else min(time.time(), read_at)
        row = json.dumps({"id": repository_id, "at": pushed_at, "branch": branch, "tip": tip, "read": now})
        with self._lock:
            if repository_id in self._tips:  # the file now holds two lines for it: compact it again
                self._compacted = False
            self._tips[repository_id] = KnownTip(pushed_at, branch, tip, now)
            if not self._folder_made:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._folder_made = True
            descriptor = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, (row + "\n").encode())
            finally:
                os.close(descriptor)

    def forget(self, repository_id: int) -> None:
        """Drop what is remembered of a repository, so its tip is asked again: an ``EMPTY`` answered for
        a branch read before may be the host's passing lapse, and must not outlive the pass that met it
        until the push time moves (one appended line, read back as a removal)."""
        row = json.dumps({"id": repository_id, "tip": None})
        with self._lock:
            if self._tips.pop(repository_id, None) is None:
                return
            self._compacted = False
            self._path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, (row + "\n").encode())
            finally:
                os.close(descriptor)

    def compact(self, listed: set[int]) -> None:
        """Keep the repositories still listed, one line each, replaced atomically; nothing is written
        when the file already holds exactly that (a listing where nothing moved)."""
        with self._lock:
            if self._compacted and all(rid in listed for rid in self._tips):
                return
            self._compacted = True
            self._tips = {rid: tip for rid, tip in self._tips.items() if rid in listed}
            lines = [
                json.dumps(
                    {"id": rid, "at": t.pushed_at, "branch": t.branch, "tip": t.tip, "read": t.read_at}
                )
                for rid, t in self._tips.items()
            ]
            self._path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._path.with_name(f"{self._path.name}.tmp-{os.getpid()}")
            temporary.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
            temporary.replace(self._path)
