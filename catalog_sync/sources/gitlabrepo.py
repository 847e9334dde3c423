"""One project of a ``gitlab`` source as the sync pass holds it and as a scanning process receives it
pickled (``GitLabRepository``), with the git settings that travel with it as a plain value
(``GitConfig``: the token as a header scoped to the API's origin, never in a URL)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from catalog_sync.errors import (
    RepositoryUnreachableError,
    SourceError,
)
from catalog_sync.sources.ancestry import gitlab_descends
from catalog_sync.sources.base import RepositoryInfo, Snapshot
from catalog_sync.sources.branchnames import refused_default
from catalog_sync.sources.git import GitRepository
from catalog_sync.sources.gitlabprojects import (
    GitLabProject,
)
from catalog_sync.sources.hostanswer import web_page
from catalog_sync.sources.hostedhistory import HistoricSnapshot

if TYPE_CHECKING:
    from catalog_sync.sources.gitlab import GitLabSource


@dataclass(frozen=True)
class GitConfig:
    """Git settings handed to a repository as a plain value: a scan worker receives the repository
    pickled, and a value travels where a method of the source (its client, its locks) cannot."""

    entries: tuple[tuple[str, str], ...]

    def __call__(self) -> list[tuple[str, str]]:
        return list(self.entries)

    def __repr__(self) -> str:
        return f"GitConfig({len(self.entries)} settings)"  # never the header's value


def authority(host: str, port: int) -> str:
    """A URL's ``host:port`` part, an IPv6 address in brackets (git's configuration keys are URLs)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _refusal(shown: str, project: GitLabProject) -> str | None:
    """Why a project is not read at its default branch: the host names one no git could have, or names
    none for a project that is not empty (the token may not read its code: read as empty, it would
    show nothing and no error)."""
    if project.code_hidden:
        return (
            f"{shown}: the host names no default branch for a project that is not empty: the token "
            "cannot read its code (it needs read_repository, and at least the Reporter role in the "
            "project); nothing is read from it"
        )
    return refused_default(shown, project.default_branch)


class GitLabRepository:
    """One project of a ``gitlab`` source: keyed by its id, read at its tracked branch.

    Scans run in worker processes, which receive the repository pickled: it travels as its identity
    and its git repository only, since the API client (a session, locks) stays with the source.
    """

    def __init__(self, source: GitLabSource, project: GitLabProject) -> None:
        self._source: GitLabSource | None = source
        self.project = project
        self._branch = source.branch_for(project) or "main"
        self._empty = project.empty_repo or source.branch_for(project) is None
        """Listed without a commit: its tip is the empty project's, until a push or a listing says."""
        self._pushed: str | None = None
        """The commit a push named since this listing found the project empty (``pushed_tip``)."""
        shown = f"project {project.path_with_namespace} ({project.id})"
        self._refused = None if source.configured_branch else _refusal(shown, project)
        """Why the project is not read: its host lists a default branch no git could have, or hides it."""
        page = web_page(project.web_url, source.web_origin)
        self._info = RepositoryInfo(
            key=source.key_of(project),
            name=project.path_with_namespace,
            url=page or f"{source.web_origin}/{project.path_with_namespace}",
            branch=None if self._refused or source.branch_for(project) is None else self._branch,
        )
        self._git: GitRepository | None = None

    @property
    def info(self) -> RepositoryInfo:
        """Key ``gitlab:HOST:ID``, the project's current path as name, and its web page as URL."""
        return self._info

    @property
    def tip_is_cheap(self) -> bool:
        """True while the remembered tip stands (no request needed): the loop asks it inline."""
        if self._source is None or self._refused is not None:
            return False
        return self._empty or self._source.known_tip(self.project, self._branch) is not None

    def tip(self, *, fresh: bool = False) -> str:
        """The tracked branch's tip: from memory when nothing moved, else one API request."""
        if self._source is None:
            raise SourceError(f"{self._info.name}: the tip is asked of the source, not in a scan")
        if self._refused is not None:
            raise RepositoryUnreachableError(self._refused)
        if self._empty and not fresh:
            # Listed empty; a push read since (``pushed_tip``) is the tip until the next listing.
            if self._pushed is None:
                raise self._source.empty(self.project, self._info.branch)
            return self._pushed
        return self._source.ask_tip(self.project, self._branch, fresh=fresh)

    def pushed_tip(self, commit: str, read: str | None) -> None:
        """Remember the commit a push named as the tip when the listing predates the push: the project
        was listed empty (kept by this listing's project, never in the tip memory, where a tip read
        before the project was emptied may stand), or the tip remembered under its
        ``last_activity_at`` is the commit read before it (``read``). Until the next listing, a pass
        (a refresh, a rule change) must not answer that tip, which would read older content back, or
        none, which would fail the project. Otherwise the branch is asked as before (a newer push may
        be lost)."""
        if self._source is None or self._refused is not None:
            return
        if self._empty:
            self._pushed = commit
            return
        known = self._source.tips.known(self.project.id, self.project.last_activity_at, self._branch)
        if known is not None and known == read:
            self._source.tips.record(self.project.id, self.project.last_activity_at, self._branch, commit)

    def ask_tip(self) -> str:
        """The branch's tip as the host answers now (one request), whatever the project's activity
        says: for pushes merged while waiting, where the last to arrive may not be the newest."""
        return self.tip(fresh=True)

    def descends_from(self, commit: str, ancestor: str) -> bool | None:
        """Whether ``commit`` has ``ancestor`` in its history (one merge-base request); None when the
        host cannot tell. Asked when a push names a commit other than the one read last (``Pinned``)."""
        if self._source is None:
            return None
        return gitlab_descends(self._source.client, self.project.id, commit, ancestor)

    def _repository(self) -> GitRepository:
        if self._git is None:
            if self._source is None:
                raise SourceError(f"{self._info.name}: the repository was not prepared for reading")
            self._git = self._source.git_for(self.project, self._branch)
        return self._git

    def prefetch(self, commit: str) -> None:
        """Fetch ``commit`` into the project's cache clone unless it is there already, then the history
        its ``git`` KPIs need (``hostedhistory``)."""
        git = self._repository()
        git.prefetch(commit)
        if self._source is not None and self._source.history is not None:
            self._source.history.read(git, commit, lambda: git.snapshot(commit))

    def snapshot(self, commit: str) -> Snapshot:
        """The commit, fetched when needed, with the history read for its ``git`` KPIs, if any."""
        git = self._repository()
        return HistoricSnapshot(git.snapshot(commit), git.cache_path)

    def __getstate__(self) -> dict[str, Any]:
        git: GitRepository | None = None
        with contextlib.suppress(SourceError):  # refused here, it is refused again where it is read
            git = self._repository()
        return {
            "project": self.project,
            "branch": self._branch,
            "info": self._info,
            "git": git,
            "refused": self._refused,
            "empty": self._empty,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._source = None
        self.project = state["project"]
        self._branch = state["branch"]
        self._info = state["info"]
        self._git = state["git"]
        self._refused = state.get("refused")
        self._empty = bool(state.get("empty"))
        self._pushed = None
