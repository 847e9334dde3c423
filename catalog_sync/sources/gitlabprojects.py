"""GitLab's project listing, read as untrusted input: what one project of ``/groups/:id/projects`` says.

A host's answer is data from the network, so every field the source relies on is checked for its type
and size before it is used, and a project that does not parse is refused with the field named: the
source skips it and reads the others, and a listing that skipped one removes nothing. The repository
key is GitLab's project id under the API's host (``gitlab:HOST[:PORT]:ID``): a rename or a transfer to
another group changes the path and the URLs, never the id, so entities, uids and history stay with
the project.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from catalog_sync.errors import HostApiError, SourceError
from catalog_sync.sources.hostanswer import MAX_HOST_ID

MAX_TEXT = 2000
"""The longest path, URL or branch name a project may carry (GitLab's own limits are far below)."""
MAX_TOPICS = 200
MAX_DEPTH = 20
"""The most levels of groups a path holds (GitLab's own limit)."""
_SEGMENT = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,254}$")
"""One segment of a GitLab path: GitLab lets it start with a letter, a digit, ``_`` or ``.``
(``.dotfiles``); a segment of dots alone (``..``) is refused besides, as it would climb."""


@dataclass(frozen=True)
class GitLabProject:
    """What the catalog uses of one GitLab project."""

    id: int
    path: str
    """The project's own path (its name in URLs), what ``include``/``exclude`` match."""
    path_with_namespace: str
    default_branch: str | None
    archived: bool
    fork: bool
    topics: tuple[str, ...]
    last_activity_at: str
    web_url: str
    http_url_to_repo: str
    empty_repo: bool = False
    """The project has no commit yet (GitLab still names a default branch for it): nothing to read."""
    code_hidden: bool = False
    """Listed as not empty but with no default branch: GitLab names the branch only to whoever may read
    the project's code, so the token cannot (a Guest member, or a token without ``read_repository``)."""
    pending_deletion: bool = False
    """Deleted, and kept by GitLab for its grace period (``marked_for_deletion_on``, or ``_at`` before
    GitLab 16), renamed ``<path>-deletion_scheduled-<id>``: the catalog treats it as deleted."""


def project_key(netloc: str, project_id: int) -> str:
    """The repository key every part of the catalog (listing, webhooks) uses for a GitLab project."""
    return f"gitlab:{netloc}:{project_id}"


def api_netloc(api_url: str) -> str:
    """The API's ``host[:port]``, lower-cased: the host part of every key of the source."""
    parts = urlsplit(api_url)
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{parts.port}" if parts.port else host


def group_reference(group: str, source: str) -> str:
    """The group's full path as one URL path segment (``acme%2Fplatform``); a path that could climb out
    of ``/groups/`` (``..``, an empty segment) is refused here as well as by the configuration."""
    segments = group.split("/")
    if not group or len(segments) > 20 or not all(_SEGMENT.match(s) and s.strip(".") for s in segments):
        raise SourceError(
            f"source {source!r}: group {group!r} is not a GitLab group path (such as acme or acme/platform)"
        )
    return quote(group, safe="")


def _field(data: Mapping[str, Any], name: str, kinds: type | tuple[type, ...], where: str) -> Any:
    value = data.get(name)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _as_tuple(kinds)):
        raise HostApiError(f"{where}: the host's answer has no valid {name!r}")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise HostApiError(f"{where}: the host's {name!r} is longer than {MAX_TEXT} characters")
    return value


def _path_field(data: Mapping[str, Any], name: str, where: str, most: int) -> str:
    """A path of at most ``most`` segments, each one GitLab allows (``group_reference``'s rule): the
    catalog shows it and stores it, so no control text, lone surrogate (which PostgreSQL cannot
    store, failing the pass) or ``..`` segment gets in."""
    value: str = _field(data, name, str, where)
    segments = value.split("/")
    if len(segments) > most or not all(_SEGMENT.match(s) and s.strip(".") for s in segments):
        raise HostApiError(f"{where}: the host's {name!r} {value[:80]!r} is not a GitLab path")
    return value


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def parse_project(data: Any, where: str) -> GitLabProject:
    """One entry of a listing page; ``HostApiError`` naming the field when it is not a project."""
    if not isinstance(data, Mapping):
        raise HostApiError(f"{where}: a listing entry is not an object")
    project_id = _field(data, "id", int, where)
    if not 0 < project_id <= MAX_HOST_ID:
        raise HostApiError(f"{where}: the host's 'id' is not a project id")
    at = f"{where}, project {project_id}"
    topics = data.get("topics", [])
    if (
        not isinstance(topics, list)
        or len(topics) > MAX_TOPICS
        or not all(isinstance(t, str) for t in topics)
    ):
        raise HostApiError(f"{at}: the host's 'topics' is not a list of at most {MAX_TOPICS} names")
    forked = data.get("forked_from_project")
    return GitLabProject(
        id=project_id,
        path=_path_field(data, "path", at, 1),
        path_with_namespace=_path_field(data, "path_with_namespace", at, MAX_DEPTH + 1),
        default_branch=_field(data, "default_branch", (str, type(None)), at) or None,
        archived=bool(_field(data, "archived", bool, at)),
        fork=isinstance(forked, Mapping),
        topics=tuple(t.lower() for t in topics),
        last_activity_at=_field(data, "last_activity_at", str, at),
        web_url=_field(data, "web_url", str, at),
        http_url_to_repo=_field(data, "http_url_to_repo", str, at),
        empty_repo=data.get("empty_repo") is True,
        code_hidden=data.get("empty_repo") is False and data.get("default_branch") is None,
        pending_deletion=any(
            isinstance(data.get(name), str) and bool(data[name])
            for name in ("marked_for_deletion_on", "marked_for_deletion_at")
        ),
    )


def parse_time(value: str) -> datetime | None:
    """GitLab's ISO 8601 time (``2024-01-01T00:00:00.000Z``), or None when it is not one."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


__all__ = [
    "GitLabProject",
    "api_netloc",
    "group_reference",
    "parse_project",
    "parse_time",
    "project_key",
]
