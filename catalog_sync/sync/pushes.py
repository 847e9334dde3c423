"""Reading a repository at the commit a push named, and measuring how long the push took to show.

A repository a push delivery named is read at the pushed commit (``Pinned``), not at whatever the
source answers for its tip: a hosting API's tip answer may lag the push (the hosted sources answer tips
from a cache), and the delivery already said which commit is new. Once written, the mark is cleared in
the write's own transaction (``SyncStore.settle_pushes``), which answers when each delivery arrived.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from catalog_sync.sources.base import Repository, RepositoryInfo, Snapshot


class Pinned:
    """A repository whose tip is the pushed commit: ``tip`` answers it without asking the host, and
    everything else (``prefetch``, ``tip_is_cheap``) is the repository's own."""

    def __init__(self, inner: Repository, commit: str) -> None:
        self.inner = inner
        self.commit = commit

    @property
    def info(self) -> RepositoryInfo:
        """The repository's own identity."""
        return self.inner.info

    def tip(self) -> str:
        """The pushed commit."""
        return self.commit

    def snapshot(self, commit: str) -> Snapshot:
        """The repository's own snapshot."""
        return self.inner.snapshot(commit)

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (unpickling): never recurse
            raise AttributeError(name)
        return getattr(self.inner, name)


def seconds_since(arrived: Sequence[datetime]) -> list[float]:
    """Seconds from each delivery's arrival to now, on the wall clock (the arrival is the API's wall
    time, perhaps another process's; a pass's own clock may be a test's)."""
    wall = time.time()
    return [max(0.0, wall - _timestamp(at)) for at in arrived]


def _timestamp(moment: datetime) -> float:
    if moment.tzinfo is None:  # SQLite keeps no zone; the catalog stores UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
