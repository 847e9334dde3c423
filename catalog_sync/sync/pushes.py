"""Reading a repository at the commit a push named, and measuring how long the push took to show.

A repository a push delivery named is read at the pushed commit (``Pinned``), not at whatever the
source answers for its tip: a hosting API's tip answer may lag the push (the hosted sources answer tips
from a cache), and the delivery already said which commit is new. Once written, the mark is cleared in
the write's own transaction (``SyncStore.settle_pushes``), which answers when each delivery arrived.

Hosts do not promise to deliver pushes in order (and a redelivery comes when someone asks). When the
commit read last is not the pushed one, the source is asked whether it already descends from it
(``descends_from``, one request), and if so whether the branch still holds it (a second one: a force
push back to an older commit names an ancestor too, and must be read); if both, the push is old news:
the tip stays the commit read, and the push is settled without a read. A source that cannot tell has
the pushed commit read, as before.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from catalog_sync.sources.base import Repository, RepositoryInfo, Snapshot


class Pinned:
    """A repository whose tip is the pushed commit: ``tip`` answers it without asking the host for the
    branch, and everything else (``prefetch``, ``snapshot``) is the repository's own."""

    def __init__(self, inner: Repository, commit: str, read: str | None = None) -> None:
        """``read``: the commit the catalog read last, if any."""
        self.inner = inner
        self.commit = commit
        self.read = read

    @property
    def info(self) -> RepositoryInfo:
        """The repository's own identity."""
        return self.inner.info

    @property
    def tip_is_cheap(self) -> bool:
        """The repository's own answer, unless ``tip`` must ask the host whether the push is older."""
        return not self._must_compare() and bool(getattr(self.inner, "tip_is_cheap", False))

    def tip(self) -> str:
        """The pushed commit; the commit read last instead when it already descends from the pushed
        one and the branch still holds it (a push delivered after a newer one was read), so older
        content never comes back, while a force push back to an older commit is read."""
        if self.read is None or not self._must_compare():
            return self.commit
        descends = self.inner.descends_from  # type: ignore[attr-defined]
        if descends(self.read, self.commit) is not True:
            return self.commit
        # A force push back to an older commit names one the commit read descends from too: the push
        # is old news only while the branch still holds the commit read.
        branch = self.info.branch
        held = descends(branch, self.read) if branch else None
        return self.read if held is True else self.commit

    def _must_compare(self) -> bool:
        return self.read is not None and self.read != self.commit and hasattr(self.inner, "descends_from")

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
