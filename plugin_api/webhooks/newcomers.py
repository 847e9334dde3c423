"""Which configured sources would list a repository a push, a creation or a move names, none listing
it yet.

A repository created minutes ago (from a template that brings its ``catalog-info.yaml``) is pushed
to before any listing has seen it, or announced by GitHub's ``repository`` ``created`` event or
GitLab's ``project_create`` system event. One transferred into a configured owner or group, renamed
into a name the filters keep, or unarchived where archived ones are skipped is as new to the
catalog, and so is one given a topic a filter asks for. Its delivery names its owner or group and,
on GitHub, what the filters judge (name, topics, fork, archived): the ``github`` sources of that
host and owner, and the ``gitlab`` sources of that host whose group holds the project, whose filters
keep it and (for a push) whose branch it is to, are the ones asked to list at once (``listed_by``).
A system hook of a GitLab before 15.5 names no host: it is taken to be the GitLab sources' host when
they share one. GitLab names no topics, fork or archived state: only the name is judged there, and a
topic filter is left to the listing. A source configured by a numeric group id cannot be matched to
a path, so it lists at its interval as before.

A GitLab group renamed or moved (``group_rename``) changes the paths of every project below it: the
``gitlab`` sources whose group is that group, a parent or a subgroup of it are asked to list at once.
A GitHub App installation that changed (``installation``, ``installation_repositories``) may read other
repositories now: the ``github`` sources of that host authenticated as that installation list at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from catalog_sync.config import (
    AppAuth,
    GitHubSourceSettings,
    GitLabSourceSettings,
    RepositoryFilters,
    Settings,
)
from catalog_sync.sources.hostapi import netloc_of
from catalog_sync.sources.hostfilters import Candidate, RepositoryFilter, Verdict
from catalog_sync.store.webhook_events import Action, GroupMoved, InstallationChanged, Lifecycle, Push

ARRIVALS = ("moved", "unarchived", "edited")
"""The lifecycle changes that may bring a repository into a source's reach."""


def listing_sources(settings: Settings, action: Action, document: dict[str, Any]) -> tuple[str, ...]:
    """The names of the sources that would list the repository pushed to, created, moved or
    unarchived, in configuration order: none for a push that reads nothing (a tag, a deleted branch)
    or a repository deleted or archived."""
    if isinstance(action, GroupMoved):
        return tuple(source.name for source in _group_sources(settings, action))
    if isinstance(action, InstallationChanged):
        return tuple(source.name for source in _installation_sources(settings, action))
    push = action if isinstance(action, Push) else None
    if push is not None and (push.branch is None or push.commit is None):
        return ()
    if isinstance(action, Lifecycle) and action.change not in ARRIVALS:
        return ()
    netloc = action.repository.netloc or _only_gitlab_host(settings, action.repository.provider)
    if netloc is None:
        return ()
    if action.repository.provider == "github":
        path, candidate = _github_repository(document)
    else:
        path, candidate = _gitlab_project(document)
    if path is None or "/" not in path:
        return ()
    names = []
    for source in _hosting_sources(settings, action.repository.provider, netloc):
        if push is not None and _branch_read(source, push) != push.branch:
            continue
        if not _holds(source, path):
            continue
        if RepositoryFilter(_judged(source)).judge(candidate) is Verdict.KEEP:
            names.append(source.name)
    return tuple(names)


def branches_read(settings: Settings, document: dict[str, Any], push: Push) -> frozenset[str]:
    """The branches the configured sources of the push's provider, on its host (any, when the delivery
    names none), that may list the project (``_may_hold``) read in it: their own branch, or the
    repository's default one. Another group's source reads nothing here: its branch, picked among a
    ``repository_update``'s changes, would hide the change the project's own source reads."""
    path = _gitlab_project(document)[0] if push.repository.provider == "gitlab" else None
    return frozenset(
        branch
        for source in _hosting_sources(settings, push.repository.provider, push.repository.netloc)
        if _may_hold(source, path) and (branch := _branch_read(source, push)) is not None
    )


def _hosting_sources(
    settings: Settings, provider: str, netloc: str | None
) -> Iterator[GitHubSourceSettings | GitLabSourceSettings]:
    """The configured ``github`` or ``gitlab`` sources of ``provider`` on the host ``netloc`` (any
    host, when None), in configuration order."""
    for source in settings.sources:
        if (
            isinstance(source, GitHubSourceSettings | GitLabSourceSettings)
            and source.type == provider
            and (netloc is None or netloc_of(source.api_url) == netloc)
        ):
            yield source


def _may_hold(source: GitHubSourceSettings | GitLabSourceSettings, path: str | None) -> bool:
    """Whether the source may list the project at ``path``: it holds that path, or the path is unknown
    or its group is configured by id, which no path can be compared to."""
    if path is None or (isinstance(source, GitLabSourceSettings) and source.group.strip("/").isdigit()):
        return True
    return _holds(source, path)


def _branch_read(source: GitHubSourceSettings | GitLabSourceSettings, push: Push) -> str | None:
    """The branch the source reads in the repository pushed to: its own, or the repository's default."""
    return source.branch or push.default_branch


def _group_sources(settings: Settings, moved: GroupMoved) -> list[GitLabSourceSettings]:
    """The ``gitlab`` sources of the host whose configured group is the moved group (by its id, or by
    its old or new full path), one of its parents or one of its subgroups: their projects' paths
    changed. A source configured by another group's numeric id cannot be placed, and lists at its
    interval."""
    netloc = moved.netloc or _only_gitlab_host(settings, "gitlab")
    if netloc is None:
        return []
    found = []
    for source in settings.sources:
        if not isinstance(source, GitLabSourceSettings) or netloc_of(source.api_url) != netloc:
            continue
        group = source.group.strip("/")
        if group.isdigit():  # a group id, as the source's listing takes it
            related = group == moved.group_id
        else:
            related = any(_related(group, path) for path in (moved.old_path, moved.new_path))
        if related:
            found.append(source)
    return found


def _installation_sources(settings: Settings, changed: InstallationChanged) -> list[GitHubSourceSettings]:
    """The ``github`` sources authenticated as the installation (``auth.app.installation_id``), on the
    host its account is on (on any configured host when the delivery names none)."""
    return [
        source
        for source in settings.sources
        if isinstance(source, GitHubSourceSettings)
        and isinstance(source.auth, AppAuth)
        and source.auth.installation_id == changed.installation_id
        and changed.netloc in (None, netloc_of(source.api_url))
    ]


def naming_old_path(settings: Settings, moved: GroupMoved) -> list[tuple[str, str]]:
    """The sources among ``_group_sources`` configured with the group's old path or one of its old
    subgroups' paths (and not its new one), each with the path its ``group`` should name now: GitLab's
    API no longer answers the old path, so their listings fail, and remove nothing, until the
    configuration names the new one."""
    old = moved.old_path.lower()
    found = []
    for source in _group_sources(settings, moved):
        group = source.group.strip("/")
        if group.isdigit():  # followed by its id: never left behind
            continue
        if (group.lower() + "/").startswith(old + "/") and not _related(group, moved.new_path):
            found.append((source.name, moved.new_path + group[len(old) :]))
    return found


def _related(group: str, path: str) -> bool:
    """Whether the groups ``group`` and ``path`` are one, or one holds the other (without case)."""
    a, b = group.lower() + "/", path.lower() + "/"
    return a.startswith(b) or b.startswith(a)


def _only_gitlab_host(settings: Settings, provider: str) -> str | None:
    """The host of a GitLab delivery that names none (a system hook before GitLab 15.5 sends no
    ``X-Gitlab-Instance``, and its ``project_create`` no URL): the GitLab sources' host when they
    share one, so the creation can only be from it; None otherwise (nothing is guessed)."""
    if provider != "gitlab":
        return None
    hosts = {netloc_of(s.api_url) for s in settings.sources if isinstance(s, GitLabSourceSettings)}
    return hosts.pop() if len(hosts) == 1 else None


def _holds(source: GitHubSourceSettings | GitLabSourceSettings, path: str) -> bool:
    """Whether the source lists repositories at ``path``: a GitHub owner's, a GitLab group's or any of
    its subgroups' (paths compared as GitHub and GitLab do, without case)."""
    if isinstance(source, GitHubSourceSettings):
        owner = source.org or source.user or ""
        return path.rpartition("/")[0].lower() == owner.lower()
    group = source.group.strip("/")
    return not group.isdigit() and path.lower().startswith(group.lower() + "/")


def _judged(source: GitHubSourceSettings | GitLabSourceSettings) -> RepositoryFilters:
    """The filters a push can be judged by: GitLab's push names no topics, so its topic filters are
    left to the listing: each push to a project they skip asks for a listing that finds nothing new
    (at most one per ``discovery.RELIST_SECONDS``), and none is missed."""
    if isinstance(source, GitHubSourceSettings):
        return source.filters
    return replace(source.filters, topics_include=(), topics_exclude=())


def _github_repository(document: dict[str, Any]) -> tuple[str | None, Candidate]:
    repository = document.get("repository")
    repository = repository if isinstance(repository, dict) else {}
    full_name = repository.get("full_name")
    topics = repository.get("topics")
    candidate = Candidate(
        name=full_name.rpartition("/")[2] if isinstance(full_name, str) else "",
        topics=tuple(t.lower() for t in topics if isinstance(t, str)) if isinstance(topics, list) else (),
        fork=repository.get("fork") is True,
        archived=repository.get("archived") is True,
    )
    return (full_name if isinstance(full_name, str) else None), candidate


def _gitlab_project(document: dict[str, Any]) -> tuple[str | None, Candidate]:
    """A push names its ``project``; a system hook's project event names the path (after a move, the
    new one) at the top."""
    project = document.get("project")
    project = project if isinstance(project, dict) else document
    path = project.get("path_with_namespace")
    if not isinstance(path, str):
        return None, Candidate("", (), False, False)
    return path, Candidate(path.rpartition("/")[2], (), False, False)


__all__ = ["branches_read", "listing_sources", "naming_old_path"]
