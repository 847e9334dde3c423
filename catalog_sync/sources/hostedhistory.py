"""The history ``git`` KPIs need, for repositories read from GitHub or GitLab at their tip alone.

A hosted repository is read at its tip (a tree through the API, or a depth-1 fetch), which is all its
descriptors need. Its ``git`` measures (release frequency, lead time, change frequency) need the
commits of the window and the release tags too, so a repository whose descriptors (the files the
patterns match and those their Locations name, as the scan reads them) declare a ``git`` KPI, and only
such a one, has them read once per tip, in the sync pass's own thread (the one holding the
credentials), before its scan:

- the commits: one fetch of the tracked branch with ``--shallow-since`` the start of the history the
  scanner reads (``base.HISTORY_DAYS``), into the repository's shallow cache clone. It is one
  request to the git host, never counted against the REST rate limit, and its cost follows the
  commits of the window, bounded by ``sync.fetch_timeout_seconds`` and ``sync.max_repository_bytes``;
- the tags: one ``git ls-remote --tags`` (names and peeled commits, no objects transferred).

What was read is recorded beside the clone (``HISTORY_FILE``: the commit, the start, the tags, or why
it failed), so a tip read before costs nothing, and a scan in a worker process, which has no
credentials, reads the history from the clone. A repository whose history was not read has its
history's gap said in the facts, and its ``git`` KPIs are ``unknown`` with that reason. A tip that
declares no ``git`` KPI, the common case, gets no record at all (a record of an older tip is removed):
writing one for every changed repository of a fleet would cost more than searching the tip's
descriptors again, from the local cache, on the rare second read of the same commit (a rescan).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from catalog_sync.config import DescriptorSettings
from catalog_sync.errors import CatalogSyncError
from catalog_sync.sources.base import HISTORY_DAYS, History, PathSelection, Snapshot, TagInfo, TreeEntry
from catalog_sync.sources.budget import ScanBudget
from catalog_sync.sources.git import GitRepository, ShallowSnapshot
from catalog_sync.sources.locations import descriptor_files
from catalog_sync.sources.selection import TreeSelection

HISTORY_FILE = "catalog-history.json"
MARGIN = timedelta(days=1)
"""Fetched before the window's start, so a scan a little later than the fetch still finds it all."""
MAX_TAGS = 5000
"""Tags kept from one ``ls-remote``, at most (the scanner looks at as many)."""
MAX_DESCRIPTOR_BYTES = 1024 * 1024
"""Bytes of descriptor files searched for a ``git`` KPI, at most."""
NOT_DECLARED = (
    "the repository's history is read from the host only when its descriptors declare a git KPI; "
    "it is read with the next commit of the tracked branch"
)
_GIT_KPI = re.compile(
    rb"""["']?\bgit["']?\s*:\s*["']?(?:release-frequency|lead-time-for-changes|change-frequency)\b"""
)


def _names_git_kpi(data: bytes) -> bool:
    """Whether one file names a ``git`` measure; the pattern, which starts with optional quotes, is
    tried only in a file that holds ``git`` at all."""
    return b"git" in data and _GIT_KPI.search(data) is not None


def declares_git_kpi(snapshot: Snapshot, descriptors: DescriptorSettings) -> bool:
    """Whether a descriptor file of ``snapshot`` names a ``git`` measure: those the patterns match,
    then those their Locations name (``locations.descriptor_files``), as a scan reads them. A search of
    the files' text, so that the decision parses only files that mention a Location; a false match
    costs one fetch, nothing more. Files past ``MAX_DESCRIPTOR_BYTES`` are neither searched nor
    followed."""
    selection = TreeSelection(globs=descriptors.patterns, files=[], folders=[])

    def read(sha: str) -> bytes | None:
        with contextlib.suppress(CatalogSyncError):
            return snapshot.read_blob(sha)
        return None

    def listed(files: set[str], globs: set[str]) -> list[TreeEntry]:
        return snapshot.tree(TreeSelection(globs=sorted(globs), files=files))

    budget = _SearchBudget(read)
    walk = descriptor_files(snapshot.tree(selection), budget.read, listed, descriptors.max_file_bytes)
    return any(data is not None and _names_git_kpi(data) for _, data in walk)


def names_git_kpi(files: Iterable[TreeEntry], read: Callable[[str], bytes | None]) -> bool:
    """``declares_git_kpi`` over descriptor files in the order a scan reads them (``read``: a blob's
    bytes, None when it cannot be read), for a caller that holds them and their bytes already (a commit
    just read through an API: ``ReadCommit.descriptors``), within the same ``MAX_DESCRIPTOR_BYTES``."""
    budget = _SearchBudget(read)
    return any(data is not None and _names_git_kpi(data) for data in map(budget.read, files))


class _SearchBudget:
    """Reads descriptor files for the search, ``MAX_DESCRIPTOR_BYTES`` in all: a file larger than what
    is left is skipped (answered None, unread), since a smaller one after it may still fit."""

    def __init__(self, read: Callable[[str], bytes | None]) -> None:
        self._read = read
        self._left = MAX_DESCRIPTOR_BYTES

    def read(self, entry: TreeEntry) -> bytes | None:
        """The file's bytes, or None once the budget cannot hold it."""
        if entry.size > self._left:
            return None
        self._left -= entry.size
        return self._read(entry.sha)


@dataclass(frozen=True)
class ReadHistory:
    """What was read for one commit: the start of the commits fetched, the remote's tags, or why not."""

    commit: str
    since: datetime | None
    tags: tuple[tuple[str, str], ...]
    missing: str | None

    @classmethod
    def load(cls, clone: Path) -> ReadHistory | None:
        """The record beside ``clone``; None when there is none or it cannot be read."""
        try:
            data: Any = json.loads((clone / HISTORY_FILE).read_text(encoding="utf-8"))
            since = datetime.fromisoformat(data["since"]) if data.get("since") else None
            tags = tuple((str(name), str(sha)) for name, sha in data.get("tags", []))
            missing = str(data["missing"]) if data.get("missing") else None
            return cls(str(data["commit"]), since, tags, missing)
        except (OSError, ValueError, KeyError, TypeError, RecursionError):  # damaged: read again
            return None

    def save(self, clone: Path) -> None:
        """Write the record atomically beside ``clone``."""
        clone.mkdir(parents=True, exist_ok=True)
        body = {
            "commit": self.commit,
            "since": self.since.isoformat() if self.since else None,
            "tags": [list(tag) for tag in self.tags],
            "missing": self.missing,
        }
        temporary = clone / f"{HISTORY_FILE}.{os.getpid()}"
        temporary.write_text(json.dumps(body), encoding="utf-8")
        temporary.replace(clone / HISTORY_FILE)


@dataclass(frozen=True)
class HistoryReader:
    """Reads the history of a hosted repository's tip when its descriptors ask for it; one per source."""

    descriptors: DescriptorSettings
    tag_pattern: str | None

    def read(self, git: GitRepository, commit: str, open_tip: Callable[[], Snapshot]) -> None:
        """Record the history of ``commit`` (the tip, already read: ``open_tip`` opens it) in ``git``'s
        cache clone: nothing when it was recorded already or when no git KPI is declared, else the
        commits of the window and the tags; a failed fetch is recorded as the reason the measures
        give, and the repository is still read at its tip."""
        self.read_declared(git, commit, lambda: self._declared(open_tip))

    def _declared(self, open_tip: Callable[[], Snapshot]) -> bool:
        snapshot = open_tip()
        try:
            return declares_git_kpi(snapshot, self.descriptors)
        finally:
            snapshot.close()

    def read_declared(self, git: GitRepository, commit: str, declared: Callable[[], bool]) -> None:
        """``read``, for a caller that decides whether ``commit`` declares a git KPI without opening
        it (``names_git_kpi`` over what it just read); ``declared`` is asked only when no record of
        ``commit`` exists."""
        clone = git.cache_path
        known = ReadHistory.load(clone)
        if known is not None and known.commit == commit:
            return
        if not declared():
            if known is not None:  # no record is the same as NOT_DECLARED, and costs no write
                with contextlib.suppress(OSError):
                    (clone / HISTORY_FILE).unlink()
            return
        since = datetime.now(UTC) - timedelta(days=HISTORY_DAYS) - MARGIN
        tip_in_clone = git.holds(commit)
        try:
            git.fetch_since(since)
            tags = git.remote_tags() if self.tag_pattern else []
        except CatalogSyncError as exc:
            ReadHistory(commit, None, (), f"the history of the window could not be read: {exc}").save(clone)
            if tip_in_clone:  # a stopped fetch empties the clone; the tip read there is read again
                with contextlib.suppress(CatalogSyncError):
                    git.prefetch(commit)
            return
        if self.tag_pattern:
            tags = [(name, sha) for name, sha in tags if fnmatch.fnmatchcase(name, self.tag_pattern)]
        ReadHistory(commit, since, tuple(tags[:MAX_TAGS]), None).save(clone)


class HistoricSnapshot:
    """A hosted repository's snapshot whose history and tags come from what ``HistoryReader`` read;
    everything else is the tip's snapshot's."""

    def __init__(self, inner: Snapshot, clone: Path) -> None:
        self._inner = inner
        self._clone = clone
        known = ReadHistory.load(clone)
        self._read = known if known is not None and known.commit == inner.commit else None

    @property
    def commit(self) -> str:
        """The commit's full sha."""
        return self._inner.commit

    @property
    def branch(self) -> str:
        """The branch the commit is the tip of."""
        return self._inner.branch

    @property
    def committed_at(self) -> datetime:
        """The commit's committer time."""
        return self._inner.committed_at

    def tree(
        self, selection: PathSelection | None = None, budget: ScanBudget | None = None
    ) -> list[TreeEntry]:
        """The tip's tree."""
        return self._inner.tree(selection, budget)

    def read_blob(self, sha: str) -> bytes:
        """One blob of the tip."""
        return self._inner.read_blob(sha)

    def history(self, since: datetime, max_commits: int = 1000, budget: ScanBudget | None = None) -> History:
        """The commits fetched back to ``since``; the tip alone, with the reason, when none were."""
        read = self._read
        if read is None or read.since is None:
            tip = self._inner.history(since, max_commits, budget)
            reason = read.missing if read is not None and read.missing else NOT_DECLARED
            return History(tip.commits, truncated=True, missing=reason)
        snapshot = ShallowSnapshot(self._clone, self.commit, self.branch)
        try:
            found = snapshot.history(since, max_commits, budget)
        finally:
            snapshot.close()
        if since >= read.since:
            # The clone's boundary is older than the asked time: only the commit cap truncates.
            found.truncated = len(found.commits) >= max_commits
        return found

    def last_changed(
        self, paths: list[str], max_commits: int = 1000, budget: ScanBudget | None = None
    ) -> dict[str, datetime]:
        """As the tip's snapshot tells it (descriptor ages are not what the history is read for)."""
        return self._inner.last_changed(paths, max_commits, budget)

    def release_tags(self, pattern: str, max_tags: int = 1000) -> list[TagInfo]:
        """The remote's tags matching ``pattern``, as listed when the history was read."""
        if self._read is None:
            return self._inner.release_tags(pattern, max_tags)
        found = [TagInfo(n, sha) for n, sha in self._read.tags if fnmatch.fnmatchcase(n, pattern)]
        return found[:max_tags]

    def close(self) -> None:
        """Close the tip's snapshot."""
        self._inner.close()

    def __enter__(self) -> HistoricSnapshot:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


__all__ = [
    "HISTORY_FILE",
    "HistoricSnapshot",
    "HistoryReader",
    "ReadHistory",
    "declares_git_kpi",
    "names_git_kpi",
]
