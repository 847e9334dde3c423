"""One repository of a ``github`` source, as the sync pass holds it (``GitHubRepository``: its tip from
the listing's ``pushed_at`` or one request, its commit read through the API or a shallow fetch) and as a
scanning process receives it (``FetchedRepository``: the caches, no credentials)."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from catalog_sync.errors import (
    EmptyRepositoryError,
    HostApiError,
    HostNotFoundError,
    RepositoryUnreachableError,
)
from catalog_sync.sources.ancestry import github_descends
from catalog_sync.sources.base import RepositoryInfo, TreeEntry
from catalog_sync.sources.branchnames import refused_default
from catalog_sync.sources.git import GitRepository, ShallowSnapshot
from catalog_sync.sources.githubapi import CommitFacts, ReadCommit, commit_facts
from catalog_sync.sources.githubtree import ApiSnapshot, BlobCache, TreeRecord
from catalog_sync.sources.hostanswer import on_origin, web_page
from catalog_sync.sources.hostedhistory import HistoricSnapshot, names_git_kpi
from catalog_sync.sources.tipstate import EMPTY

if TYPE_CHECKING:
    from catalog_sync.sources.github import GitHubSource

API_READ_RESERVE = 1000
"""Requests of the host's rate limit kept for listings and tips: while fewer are left, a changed
repository is read by a shallow fetch, which the REST API's rate limit does not count."""
_SHA = re.compile(r"^[0-9a-f]{40}$")


class GitHubRepository:
    """One repository of a github source; its identity is the host's id."""

    def __init__(self, source: GitHubSource, listed: dict[str, Any]) -> None:
        self._source = source
        self._git: GitRepository | None = None
        self._facts: tuple[str, CommitFacts] | None = None
        """The tip's time and author as the branch answer gave them (no request for the commit)."""
        self._unwritten: ReadCommit | None = None
        """The commit read last through the API, until a scan (or ``_open``) takes it to keep."""
        self.update(listed)

    def update(self, listed: dict[str, Any]) -> None:
        """Take the latest listing's values (a rename or transfer changes the name and URLs); a page
        answered by a 304 hands the same values again, which cost nothing."""
        if listed is getattr(self, "_listed", None):
            return
        if getattr(self, "_listed", {}).get("clone_url") != listed["clone_url"]:
            self._git = None
        self._listed = listed
        configured = self._source.settings.branch
        self._refused = None if configured else refused_default(listed["full_name"], listed["default_branch"])
        self._branch = configured or ("" if self._refused else listed["default_branch"]) or "main"
        origin = self._source.git_origin
        html = web_page(listed["html_url"], origin) or f"{origin}/{listed['full_name']}"
        self._info = RepositoryInfo(
            key=f"github:{self._source.netloc}:{listed['id']}",
            name=listed["full_name"],
            url=html,
            branch=None if self._refused else self._branch,
        )

    @property
    def id(self) -> int:
        """The host's repository id."""
        return int(self._listed["id"])

    @property
    def branch(self) -> str:
        """The branch read: the configured one, else the repository's default branch."""
        return self._branch

    @property
    def info(self) -> RepositoryInfo:
        """Keyed by the host's id: ``github:{netloc}:{id}``; made once per listing, since the sync asks
        for it several times per repository and pass."""
        return self._info

    @property
    def tip_is_cheap(self) -> bool:
        """True while ``pushed_at`` has not moved since the tip was last read: no request is needed."""
        return self._known_tip() is not None

    def _known_tip(self) -> str | None:
        if self._refused is not None:
            return None
        return self._source.tips.known(self.id, self._listed["pushed_at"], self.branch)

    def tip(self) -> str:
        """The stored tip while ``pushed_at`` has not moved; else one request for the branch. A default
        branch no git could have fails this repository alone (``branchnames``)."""
        if self._refused is not None:
            raise RepositoryUnreachableError(self._refused)
        known = self._known_tip()
        if known == EMPTY:
            raise self._empty()
        if known is not None:
            return known
        return self.ask_tip()

    def ask_tip(self) -> str:
        """The branch's tip as the host answers now (one request), whatever the listing says: for
        pushes merged while waiting, where the last to arrive may not be the newest (``Pinned``)."""
        if self._refused is not None:
            raise RepositoryUnreachableError(self._refused)
        pushed_at = self._listed["pushed_at"]
        path = f"/repos/{self._listed['full_name']}/branches/{quote(self.branch, safe='')}"
        try:
            page = self._source.reads.get(path)
        except HostNotFoundError as exc:
            if self._source.settings.branch:  # a branch the configuration names must exist
                raise RepositoryUnreachableError(f"{self.info.name}: {exc}") from None
            self._source.tips.record(self.id, pushed_at, self.branch, EMPTY)
            raise self._empty() from None
        except HostApiError as exc:
            raise RepositoryUnreachableError(f"{self.info.name}: {exc}") from None
        commit = page.data.get("commit") if isinstance(page.data, dict) else None
        sha = commit.get("sha") if isinstance(commit, dict) else None
        if not isinstance(sha, str) or not _SHA.match(sha):
            raise RepositoryUnreachableError(f"{self.info.name}: the host's answer names no commit")
        with contextlib.suppress(RepositoryUnreachableError):
            self._facts = (sha, commit_facts(commit, self.info.name))
        self._source.tips.record(self.id, pushed_at, self.branch, sha)
        return sha

    def pushed_tip(self, commit: str, read: str | None) -> None:
        """Remember the commit a push named as the tip, under the listing's ``pushed_at``, when what is
        remembered there is the commit read before it (``read``) or ``EMPTY``: the listing predates the
        push, and until the next one a pass (a refresh, a rule change) must not answer that tip, which
        would read older content back or fail an empty repository read at its first push. Nothing
        remembered, or another tip, is left alone: the branch is asked (a newer push may be lost)."""
        known = self._known_tip()
        if known is not None and known in (read, EMPTY):
            self._source.tips.record(self.id, self._listed["pushed_at"], self.branch, commit)

    def forget_tip(self) -> None:
        """Ask the branch again next time: the sync read a commit of it before, so the host's 404 that
        made it look empty is no state to remember until ``pushed_at`` moves (it may be a lapse)."""
        self._source.tips.forget(self.id)

    def _empty(self) -> EmptyRepositoryError:
        return EmptyRepositoryError(
            f"{self.info.name}: the host has no commit on its default branch {self.branch!r} yet (an empty "
            "repository); read at its first push"
        )

    def descends_from(self, commit: str, ancestor: str) -> bool | None:
        """Whether ``commit`` has ``ancestor`` in its history (one compare request); None when the host
        cannot tell. Asked when a push names a commit other than the one read last (``Pinned``)."""
        return github_descends(self._source.reads, self._listed["full_name"], commit, ancestor)

    def _repository(self) -> GitRepository:
        if self._git is None:
            url = self._clone_url()
            if not self._on_git_origin(url):
                raise RepositoryUnreachableError(
                    f"{self.info.name}: the clone URL is not on {self._source.git_origin}; the token is "
                    "sent to no other host, so the repository is not read"
                )
            self._git = GitRepository(
                url,
                self.branch,
                self._source.cache / "git" / str(self.id),
                limits=self._source.git_limits,
                shallow=True,
                credentials=self._source.git_config,
            )
        return self._git

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Scans run in worker processes, which get the repository without its source (clients, locks,
        credentials): the commit was read in this process, so reading it needs none of them. The
        commit read last through the API goes with the first copy made, which writes it into the cache
        as it opens it (``FetchedRepository.snapshot``): this process keeps no file system work, and
        no read, once it is handed on."""
        cache = self._source.cache / "git" / str(self.id)
        reader = self._source.api_reader
        read, self._unwritten = self._unwritten, None
        return FetchedRepository, (
            self.info,
            cache,
            self._fetchable_url(),
            self.branch,
            reader.record(self.id).path,
            reader.blobs.root,
            self._source.git_limits.allowed_protocols,
            read,
        )

    def _clone_url(self) -> str:
        return str(self._listed["clone_url"] or self._origin_url())

    def _origin_url(self) -> str:
        return f"{self._source.git_origin}/{self._listed['full_name']}.git"

    def _fetchable_url(self) -> str:
        """The clone URL a scanning process is handed: the listed one when it is on the git host's
        origin (whose scheme ``sync.allowed_protocols`` was checked to list at start), else the
        origin's own; a listed URL elsewhere is never fetched, and its transport, refused as the
        process unpickles the repository, would end that process instead of failing one scan."""
        url = self._clone_url()
        return url if self._on_git_origin(url) else self._origin_url()

    def _on_git_origin(self, url: str) -> bool:
        """Whether ``url`` is on the git host's own origin (scheme, host and port), the one the token's
        header is scoped to: compared as it is, never mapped as an API URL is (``git_origin`` reads
        api.github.com as github.com, whatever its scheme or port)."""
        return on_origin(url, self._source.git_origin)

    def prefetch(self, commit: str) -> None:
        """Read ``commit`` (``_read_tip``), then the history its ``git`` KPIs need (``hostedhistory``).
        Whether they are declared is searched in what the read just fetched, when it went through the
        API: the tree record and the blobs are not read back from the disk they were written to."""
        read = self._read_tip(commit)
        history = self._source.history
        if history is None:
            return
        if read is not None:
            history.read_declared(
                self._repository(), commit, lambda: names_git_kpi(read.descriptors, read.blob)
            )
        else:
            history.read(self._repository(), commit, lambda: self._open(commit))

    def _read_tip(self, commit: str) -> ReadCommit | None:
        """Read ``commit`` through the API unless it is in the cache or read already and not handed on;
        a tree the host truncated, or a rate limit nearly spent (``API_READ_RESERVE``), has it fetched
        (depth 1) into the shallow cache clone instead. Answers what the API read fetched; None when
        nothing was read through it."""
        unwritten = self._unwritten
        if unwritten is not None and unwritten.commit == commit and unwritten.still_whole():
            return unwritten
        reader = self._source.api_reader
        if reader.holds(self.id, commit):
            return None
        remaining = self._source.reads.remaining
        if remaining is not None and remaining < API_READ_RESERVE:
            self._repository().prefetch(commit)
            return None
        facts = self._facts[1] if self._facts is not None and self._facts[0] == commit else None
        read = self._unwritten = reader.read(self.id, self._listed["full_name"], commit, facts)
        if read is None:
            self._repository().prefetch(commit)
        return read

    def snapshot(self, commit: str) -> HistoricSnapshot:
        """Open ``commit`` as read by ``prefetch`` (reading it first when it was not)."""
        self._read_tip(commit)
        return self._open(commit)

    def _open(self, commit: str) -> HistoricSnapshot:
        """Open ``commit`` from the caches, as a scanning process does (it was read just before)."""
        _, fetched = self.__reduce__()
        return FetchedRepository(*fetched).snapshot(commit)


class FetchedRepository:
    """A hosted repository as a scanning process receives it: its identity and its caches (the tree
    read through the API, the blobs, the shallow clone), with the commit just read through the API if
    it is not in them yet; no credentials: a commit not read already fails instead of being read
    without them."""

    tip_is_cheap = True

    def __init__(
        self,
        info: RepositoryInfo,
        cache_dir: Path,
        url: str,
        branch: str,
        tree: Path,
        blobs: Path,
        allowed_protocols: tuple[str, ...],
        read: ReadCommit | None = None,
    ) -> None:
        """``allowed_protocols`` are the source's (``sync.allowed_protocols``): a fetch made here obeys
        the same settings as one made by the sync pass. ``read``: the commit the sync pass read
        through the API last, not written into the caches yet."""
        self.info = info
        self._branch = branch
        self._tree = TreeRecord(tree)
        self._blobs = BlobCache(blobs)
        self._git = GitRepository(url, branch, cache_dir, allowed_protocols=allowed_protocols, shallow=True)
        self._read = read

    def tip(self) -> str:
        """Never asked in a scanning process."""
        raise RepositoryUnreachableError(f"{self.info.name}: the tip is asked by the sync pass, not a scan")

    def snapshot(self, commit: str) -> HistoricSnapshot:
        """Open a commit read through the API (the one handed with this repository is written into
        the caches first, for the passes after), else one already in the shallow cache clone; with
        the history read for its ``git`` KPIs, if any."""
        read, self._read = self._read, None
        record: tuple[datetime, str, list[TreeEntry]] | None
        if read is not None and read.commit == commit:
            read.keep(self._tree)
            record = (read.committed_at, read.author, read.files)
        else:
            record = self._tree.read(commit)
        if record is not None:
            committed_at, author, files = record
            tip = ApiSnapshot(commit, self._branch, committed_at, author, files, self._blobs)
            return HistoricSnapshot(tip, self._git.cache_path)
        snapshot = self._git.snapshot(commit)
        assert isinstance(snapshot, ShallowSnapshot)
        return HistoricSnapshot(snapshot, self._git.cache_path)
