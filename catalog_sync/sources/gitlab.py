"""The ``gitlab`` source: every project of a group and of all its subgroups, listed from GitLab's API.

Listing walks ``/groups/:id/projects?include_subgroups=true`` in keyset pages of 100 (offset pages grow
slower the deeper they go, and GitLab caps them), each page asked conditionally through the shared
``HostClient``, so a pass over a group where nothing changed costs one conditional request per hundred
projects. A listing that fails on any page raises, and the pass then removes nothing; so does one whose
project ids stop going up (a host that repeats or rewinds its keyset pages).

An empty project (``empty_repo``, or no default branch and none configured) is listed and read as
empty (``EmptyRepositoryError``): no request, no failure, read at its first push. A project pending
deletion (GitLab keeps a deleted project for a grace period, renamed, and still lists it) is removed
at once as an archived one is, its entities orphaned; restored, it is listed and read again.

A project's tip costs no request when its ``last_activity_at`` is the one its tip was last asked
under. GitLab moves that time at most once an hour, so a push soon after other activity does not move
it: the tip is therefore asked again, whatever the time says, until it has been asked once after that
hour (and a few minutes for the clocks) has passed, by GitLab's own clock (the ``Date`` of its answer,
so a host whose clock runs behind this machine's does not shorten its hour); only then is an unchanged
time trusted. Reading is a shallow fetch of the tracked branch through ``sources/git.py``, the token
handed to git as a header scoped to the API's origin, in git's configuration from the environment:
never in a URL, never on a command line, never sent to another host. The clone of a project that
stops being read goes at the second complete listing in a row without it, when the catalog removes the
project, and the clone of a renamed or transferred project made under its old path goes at the next
listing (``cloneprune``).

This module lists and filters; a project as the pass reads it is ``gitlabrepo``'s.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from catalog_sync.config import GitLabSourceSettings, SyncSettings
from catalog_sync.credentials import env_token
from catalog_sync.errors import (
    EmptyRepositoryError,
    HostApiError,
    HostNotFoundError,
    RepositoryUnreachableError,
)
from catalog_sync.sources.base import Repository
from catalog_sync.sources.cloneprune import ClonePruner
from catalog_sync.sources.git import GitRepository
from catalog_sync.sources.gitenv import GitLimits
from catalog_sync.sources.gitlabprojects import (
    GitLabProject,
    api_netloc,
    group_reference,
    parse_project,
    parse_time,
    project_key,
)
from catalog_sync.sources.gitlabrepo import GitConfig, GitLabRepository, authority
from catalog_sync.sources.hostanswer import COMMIT_ID
from catalog_sync.sources.hostapi import HostClient, HostLimits, Page, origin_of
from catalog_sync.sources.hostedhistory import HistoryReader
from catalog_sync.sources.hostfilters import Candidate, RepositoryFilter, Verdict
from catalog_sync.sources.hostreach import reach_of
from catalog_sync.sources.tipstate import KnownTip, TipState
from catalog_sync.sources.urls import redact
from catalog_sync.textsafe import escape_controls

PER_PAGE = 100
ACTIVITY_THROTTLE_SECONDS = 3600 + 300
"""GitLab's hour between two moves of ``last_activity_at``, and five minutes for the clocks."""
_FIELDS = (
    "id",
    "path",
    "path_with_namespace",
    "default_branch",
    "archived",
    "forked_from_project",
    "topics",
    "last_activity_at",
    "web_url",
    "http_url_to_repo",
    "empty_repo",
    "marked_for_deletion_on",
    "marked_for_deletion_at",
)


def _trim_page(data: Any) -> Any:
    """Keep only the fields the source reads of each project (the stored copy of the page stays small);
    anything that is not a list of objects is kept as is, for the parser to refuse."""
    if not isinstance(data, list):
        return data
    trimmed: list[Any] = []
    for entry in data:
        if isinstance(entry, Mapping):
            kept = {name: entry[name] for name in _FIELDS if name in entry}
            if isinstance(kept.get("forked_from_project"), Mapping):
                kept["forked_from_project"] = {"id": kept["forked_from_project"].get("id")}
            trimmed.append(kept)
        else:
            trimmed.append(entry)
    return trimmed


def _trim_branch(data: Any) -> Any:
    commit = data.get("commit") if isinstance(data, Mapping) else None
    return {"commit": {"id": commit.get("id")}} if isinstance(commit, Mapping) else data


def asked_after_throttle(known: KnownTip, last_activity_at: str) -> bool:
    """Whether the remembered tip was asked once GitLab's hour after ``last_activity_at`` had passed:
    only then does an unchanged activity time prove that no push came since."""
    active = parse_time(last_activity_at)
    return active is not None and known.read_at >= active.timestamp() + ACTIVITY_THROTTLE_SECONDS


def read_token(settings: GitLabSourceSettings, environ: Mapping[str, str]) -> str | None:
    """The token from the variable ``auth.token_env`` names; a named variable that is unset or empty
    fails the source at start, naming the variable (never a value)."""
    if settings.auth is None:
        return None
    advice = "; set it to a token with the read_api and read_repository scopes"
    return env_token(environ, settings.name, settings.auth.token_env, advice)


class GitLabSource:
    """A group and its subgroups; one ``HostClient`` and one tip memory per source."""

    removal_listings = 2
    """Complete listings a project must be missing from before it is removed: a keyset walk can miss
    a project transferred between two of its pages."""
    history: HistoryReader | None = None
    """Reads the history of projects whose descriptors declare ``git`` KPIs (``build_source``)."""

    def __init__(
        self,
        settings: GitLabSourceSettings,
        cache_dir: Path,
        sync: SyncSettings,
        *,
        environ: Mapping[str, str] | None = None,
        limits: HostLimits | None = None,
    ) -> None:
        self._settings = settings
        self._group = group_reference(settings.group, settings.name)
        env = os.environ if environ is None else environ
        self._token = read_token(settings, env)
        self.reach = reach_of(settings.name, settings.network, env)
        self._netloc = api_netloc(settings.api_url)
        self.web_origin = f"{origin_of(settings.api_url)[0]}://{self._netloc}"
        """Where the host's web pages are (the API's origin): a project's web address must be there."""
        self._filter = RepositoryFilter(settings.filters)
        self.retired_keys: set[str] = set()
        """Keys of the last listing's archived projects (``archived: false``): removed at once."""
        self.skipped_entries: list[str] = []
        """Why each entry of the last listing that was not a project was skipped: when any was, the
        listing is incomplete and removes nothing."""
        digest = hashlib.sha256(f"{settings.api_url}\n{settings.group}".encode()).hexdigest()[:16]
        folder = cache_dir / "gitlab" / f"{settings.name}-{digest}"
        self._repositories_dir = folder / "repositories"
        self._clones = ClonePruner(self._repositories_dir, self.removal_listings)
        token = self._token
        self.client = HostClient(
            settings.name,
            settings.api_url,
            authorization=(lambda: f"Bearer {token}") if token else None,
            cache_file=folder / "pages.json",
            limits=limits or HostLimits.of(sync),
            reach=self.reach,
        )
        self.tips = TipState(folder / "tips.jsonl")
        self._git_limits = GitLimits.of(sync)

    @property
    def name(self) -> str:
        """The source's configured name."""
        return self._settings.name

    def discover(self) -> list[Repository]:
        """Every project of the group and its subgroups that the filters keep; ``HostApiError`` (a
        ``SourceError``) when any page fails, so nothing is removed on a partial listing. An entry that
        is not a project is skipped and named in ``skipped_entries``, and the listing then removes
        nothing. Only a complete listing prunes the clones of projects it no longer reads
        (``cloneprune``)."""
        projects, self.skipped_entries = self._list()
        found: list[Repository] = []
        read: dict[int, str] = {}
        retired: set[str] = set()
        for project in projects:
            if project.pending_deletion:  # deleted, within GitLab's grace period: as good as gone
                retired.add(self.key_of(project))
                continue
            candidate = Candidate(project.path, project.topics, project.fork, project.archived)
            verdict = self._filter.judge(candidate)
            if verdict is Verdict.RETIRE:
                retired.add(self.key_of(project))
            elif verdict is Verdict.KEEP:
                found.append(GitLabRepository(self, project))
                read[project.id] = project.http_url_to_repo
        self.client.save()
        self.retired_keys = retired
        if not self.skipped_entries:
            self.tips.compact({p.id for p in projects})
            self._clones.prune(read, time.time())
        return found

    def _list(self) -> tuple[list[GitLabProject], list[str]]:
        query = (
            f"groups/{self._group}/projects?include_subgroups=true&with_shared=false"
            f"&pagination=keyset&order_by=id&sort=asc&per_page={PER_PAGE}"
        )
        projects: list[GitLabProject] = []
        skipped: list[str] = []
        last = 0
        for number, page in enumerate(self._pages(query), start=1):
            where = f"source {self.name!r}: listing page {number}"
            if not isinstance(page.data, list):
                raise HostApiError(f"{where}: the host's answer is not a list of projects")
            if len(page.data) > PER_PAGE:
                raise HostApiError(
                    f"{where}: {len(page.data)} projects on one page, more than the {PER_PAGE} asked; "
                    "the host does not answer as GitLab does, and the listing was stopped"
                )
            for entry in page.data:
                try:
                    project = parse_project(entry, where)
                except HostApiError as exc:
                    skipped.append(str(exc))
                    continue
                if project.id <= last:
                    raise HostApiError(
                        f"{where}: project {project.id} comes after project {last}, but keyset pages "
                        "ordered by id only go up: the host repeats or rewinds its listing, which was stopped"
                    )
                last = project.id
                projects.append(project)
        return projects, skipped

    def _pages(self, query: str) -> Iterator[Page]:
        """The listing's pages; a group the host does not know is named with the likeliest cause."""
        try:
            yield from self.client.pages(query, trim=_trim_page)
        except HostNotFoundError as exc:
            raise HostNotFoundError(
                f"{exc}; if group {self._settings.group!r} was renamed or moved, set the source's "
                "group to its new path (GitLab does not answer a group's old path)"
            ) from None

    # -- what the repositories ask of their source ----------------------------------------------------

    @property
    def configured_branch(self) -> str | None:
        """The branch the source's configuration names for every project, if any."""
        return self._settings.branch

    def branch_for(self, project: GitLabProject) -> str | None:
        """The configured branch, else the project's default one (None: the project names none, so
        it has nothing to read yet)."""
        return self._settings.branch or project.default_branch

    def key_of(self, project: GitLabProject) -> str:
        """The project's repository key (see ``gitlabprojects.project_key``)."""
        return project_key(self._netloc, project.id)

    def ask_tip(self, project: GitLabProject, branch: str, *, fresh: bool = False) -> str:
        """The branch's tip, from memory when the project's activity says it cannot have moved (unless
        ``fresh``: as the host answers now)."""
        known = None if fresh else self.known_tip(project, branch)
        if known is not None:
            return known
        shown = f"project {project.path_with_namespace} ({project.id})"
        try:
            page = self.client.get(
                f"projects/{project.id}/repository/branches/{quote(branch, safe='')}", trim=_trim_branch
            )
        except HostNotFoundError as exc:
            if project.empty_repo:  # listed empty, and still is
                raise self.empty(project, branch) from None
            raise RepositoryUnreachableError(f"{shown}: {exc}") from None
        except HostApiError as exc:
            raise RepositoryUnreachableError(f"{shown}: {exc}") from None
        commit = page.data.get("commit") if isinstance(page.data, Mapping) else None
        sha = commit.get("id") if isinstance(commit, Mapping) else None
        if not isinstance(sha, str) or not COMMIT_ID.match(sha):
            raise RepositoryUnreachableError(
                f"{shown}: the host's answer for branch {branch!r} names no commit"
            )
        # Read when GitLab answered by its clock, on which it counts its hour of last_activity_at.
        self.tips.record(project.id, project.last_activity_at, branch, sha, read_at=page.answered_at)
        return sha

    def empty(self, project: GitLabProject, branch: str | None) -> EmptyRepositoryError:
        """Why an empty project has no tip: the error the sync records as read, not as failing."""
        shown = f"project {project.path_with_namespace} ({project.id})"
        named = f" on branch {branch!r}" if branch else ""
        return EmptyRepositoryError(f"{shown}: the host has no commit{named} yet (an empty project)")

    def known_tip(self, project: GitLabProject, branch: str) -> str | None:
        """The remembered tip, when the project's activity proves it cannot have moved."""
        known = self.tips.entry(project.id, project.last_activity_at, branch)
        if known is not None and asked_after_throttle(known, project.last_activity_at):
            return known.tip
        return None

    def git_for(self, project: GitLabProject, branch: str) -> GitRepository:
        """The project's git repository, read only from the API's own origin, with or without a token:
        the token goes nowhere else, and a listing cannot send git to a file on this machine's disk
        (``file://``, allowed for local sources) or to another host."""
        api_origin = origin_of(self._settings.api_url)
        if origin_of(project.http_url_to_repo) != api_origin:
            raise RepositoryUnreachableError(
                f"source {self.name!r}: project {project.path_with_namespace} is served from "
                f"{escape_controls(redact(project.http_url_to_repo))}, another host than api_url; no "
                "token is sent there and it is not read"
            )
        folder = self._repositories_dir / str(project.id)
        return GitRepository(
            project.http_url_to_repo,
            branch,
            folder,
            limits=self._git_limits,
            shallow=True,
            credentials=GitConfig(tuple(self.git_config())),
        )

    def git_config(self) -> list[tuple[str, str]]:
        """The token for git: GitLab's ``oauth2:TOKEN`` basic credentials, as a header scoped to the
        API's origin (git sends it nowhere else); the source's proxy and authorities."""
        scheme, host, port = origin_of(self._settings.api_url)
        origin = f"{scheme}://{authority(host, port)}"
        if self._token is None:
            return self.reach.git_config(origin)
        basic = base64.b64encode(f"oauth2:{self._token}".encode()).decode()
        return [
            (f"http.{origin}/.extraHeader", f"Authorization: Basic {basic}"),
            *self.reach.git_config(origin),
        ]


__all__ = ["ACTIVITY_THROTTLE_SECONDS", "PER_PAGE", "GitLabRepository", "GitLabSource", "read_token"]
