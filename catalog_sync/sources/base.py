"""The small contract every kind of source fulfils, so the sync loop never knows which kind it runs.

A *source* (one entry of ``sources`` in the configuration) lists *repositories*; a repository answers
its tip commit cheaply and opens a *snapshot* of one commit, from which the scanner reads the tree,
blobs and history. Git access lives behind these protocols and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from catalog_sync.sources.budget import ScanBudget

HISTORY_DAYS = 90
"""Days of history a scan reads (the repository facts and the ``git`` KPIs' longest window)."""


@dataclass(frozen=True)
class RepositoryInfo:
    """What the catalog records of a repository; ``url`` never carries credentials."""

    key: str
    name: str
    url: str
    branch: str | None


@dataclass(frozen=True)
class TreeEntry:
    """One file of a commit's tree. ``mode`` tells symlinks (0o120000) and submodules apart."""

    path: str
    sha: str
    mode: int
    size: int


@dataclass(frozen=True)
class CommitInfo:
    """One commit of the branch's history, as far as the repository facts need it."""

    sha: str
    committed_at: datetime
    author: str


@dataclass(frozen=True)
class TagInfo:
    """A release tag: its name and the commit it marks (an annotated tag peeled to its commit)."""

    name: str
    commit: str


@dataclass
class History:
    """The recent history of the branch tip: enough for "recent commits" and "descriptor age"."""

    commits: list[CommitInfo] = field(default_factory=list)
    truncated: bool = False
    missing: str | None = None
    """Why the history back to the asked time was not read at all (a hosted repository's tip alone),
    for the measures that need it to say ``unknown`` instead of counting the tip."""


class PathSelection(Protocol):
    """Which folders a tree walk reads and which files it lists (see ``selection.TreeSelection``)."""

    def enters(self, folder: str) -> bool:
        """Whether to read ``folder`` (ending in ``/``); asked just before reading it, so an answer may
        change with what the walk has met so far."""
        ...

    def keeps(self, path: str) -> bool:
        """Whether the file at ``path`` belongs in the listing; asked once for each file met."""
        ...


class Snapshot(Protocol):
    """A read-only view of one commit; committed content only, never a working tree."""

    @property
    def commit(self) -> str:
        """The commit's full sha."""
        ...

    @property
    def branch(self) -> str:
        """The branch the commit is the tip of."""
        ...

    @property
    def committed_at(self) -> datetime:
        """The commit's committer time (timezone-aware, UTC)."""
        ...

    def tree(
        self, selection: PathSelection | None = None, budget: ScanBudget | None = None
    ) -> list[TreeEntry]:
        """The files of the commit that ``selection`` keeps (every file without one), sorted by path;
        each tree entry visited and each tree read is charged to ``budget`` before it is read."""
        ...

    def read_blob(self, sha: str) -> bytes:
        """One blob's bytes."""
        ...

    def history(self, since: datetime, max_commits: int = 1000, budget: ScanBudget | None = None) -> History:
        """Commits reachable from the tip, newest first, back to ``since``; ``budget``'s clock is checked
        as the walk goes."""
        ...

    def last_changed(
        self, paths: list[str], max_commits: int = 1000, budget: ScanBudget | None = None
    ) -> dict[str, datetime]:
        """For each path, the time of the newest commit that changed it (bounded walk, ``budget``'s clock
        checked as it goes)."""
        ...

    def release_tags(self, pattern: str, max_tags: int = 1000) -> list[TagInfo]:
        """The tags whose name matches the glob ``pattern`` (``kpis.release_tag_pattern``), at most
        ``max_tags`` of them; which of them the branch holds is for the caller's history walk to say."""
        ...

    def close(self) -> None:
        """Release file handles and helper processes."""
        ...


class Repository(Protocol):
    """One repository of a source: the unit of sync.

    A repository may carry a class attribute ``tip_is_cheap = True`` when ``tip`` reads local files
    only; the sync loop then asks it inline instead of in a thread (ten thousand thread hand-offs cost
    more than the reads themselves). A remote one may offer ``prefetch(commit)``, which brings the
    commit into its local cache: the sync loop calls it in the thread that asked for the tip, so a
    slow transfer waits there, beside the network work, and never inside a scan. One that webhooks
    can name may offer ``descends_from(commit, ancestor) -> bool | None`` (``commit`` a commit or the
    branch's name, for its tip now), so a push delivered after a newer one was read is not read over
    it (``sync.pushes.Pinned``); None is "cannot tell".
    """

    @property
    def info(self) -> RepositoryInfo:
        """Identity and display data."""
        ...

    def tip(self) -> str:
        """The tip commit of the branch, as cheaply as the source allows (e.g. ``git ls-remote``)."""
        ...

    def snapshot(self, commit: str) -> Snapshot:
        """Make ``commit`` available locally (fetching if needed) and open it."""
        ...


class Source(Protocol):
    """One source; lists its repositories.

    A source whose list is the catalog's own record (``registered``: repositories registered through
    the API) carries a class attribute ``from_catalog = True``: the sync pass lists it on every pass
    (one query) and records nothing back, since there is nothing to reconcile the list against. A
    source listing from a hosting API is an ordinary source: its ``discover`` asks the host. Such a
    source may carry ``removal_listings`` (complete listings a repository must be missing from before
    it is removed; 1 when absent) and, after each ``discover``, ``retired_keys``: keys of repositories
    the host reports gone from use (archived while archived ones are not read), removed at once, and
    ``skipped_entries``: why each entry the host listed but that could not be read was skipped (one
    broken entry must not stop the rest being read, but a listing with one removes nothing).
    """

    @property
    def name(self) -> str:
        """The source's configured name."""
        ...

    def discover(self) -> list[Repository]:
        """The repositories this source yields now; raises SourceError when it cannot tell."""
        ...
