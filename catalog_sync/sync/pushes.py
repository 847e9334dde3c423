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
the pushed commit read, as before. When a push replaced another that was waiting (two arrived before a
pass), the last to arrive may be the older: the branch's tip is asked (one request), and read instead
when it descends from the pushed commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from catalog_sync.errors import CatalogSyncError
from catalog_sync.sources.base import Repository, RepositoryInfo, Snapshot


class Pinned:
    """A repository whose tip is the pushed commit: ``tip`` answers it without asking the host for the
    branch, and everything else (``prefetch``, ``snapshot``) is the repository's own."""

    def __init__(self, inner: Repository, commit: str, read: str | None = None, merged: bool = False) -> None:
        """``read``: the commit the catalog read last, if any; ``merged``: the push replaced another
        that was waiting (``ClaimedRepository.pushes_merged``)."""
        self.inner = inner
        self.commit = commit
        self.read = read
        self.merged = merged

    @property
    def info(self) -> RepositoryInfo:
        """The repository's own identity."""
        return self.inner.info

    @property
    def tip_is_cheap(self) -> bool:
        """The repository's own answer, unless ``tip`` must ask the host how the commits stand."""
        if not hasattr(self.inner, "descends_from"):
            return bool(getattr(self.inner, "tip_is_cheap", False))
        asks = self.merged or self.read not in (None, self.commit)
        return not asks and bool(getattr(self.inner, "tip_is_cheap", False))

    def tip(self) -> str:
        """The pushed commit, or the newer tip when pushes were merged while waiting and the last to
        arrive is not the newest; the commit read last instead when it already descends from that one
        and the branch still holds it (a push delivered after a newer one was read), so older content
        never comes back, while a force push back to an older commit is read."""
        if not hasattr(self.inner, "descends_from"):
            return self.commit
        tip = self._tip(self.inner.descends_from)
        remember = getattr(self.inner, "pushed_tip", None)
        if remember is not None:  # a hosted source's tip memory may predate the push until it lists again
            remember(tip, self.read)
        return tip

    def _tip(self, descends: Callable[[str, str], bool | None]) -> str:
        pushed = self._newest(descends) if self.merged else self.commit
        if self.read is None or self.read == pushed or descends(self.read, pushed) is not True:
            return pushed
        # A force push back to an older commit names one the commit read descends from too: the push
        # is old news only while the branch still holds the commit read.
        branch = self.info.branch
        held = descends(branch, self.read) if branch else None
        return self.read if held is True else pushed

    def _newest(self, descends: Callable[[str, str], bool | None]) -> str:
        """The branch's tip now when it descends from the pushed commit (a newer push whose mark the
        later-arriving, older one replaced), else the pushed commit."""
        ask = getattr(self.inner, "ask_tip", None)
        if ask is None:
            return self.commit
        try:
            newest = str(ask())
        except CatalogSyncError:  # the host cannot say now: the pushed commit, as always
            return self.commit
        return newest if newest != self.commit and descends(newest, self.commit) is True else self.commit

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
