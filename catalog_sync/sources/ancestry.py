"""Whether one commit descends from another, asked of a hosting API: so a push delivered late cannot
bring older content back.

Hosts do not promise to deliver webhooks in order, and a redelivery comes whenever someone asks for
it. A repository is read at the commit its push named (``sync.pushes.Pinned``); when the commit read
last already descends from that one, the push is old news and reading it would show older content
until the next periodic pass. One request tells: GitHub's compare (``status`` ``ahead`` or
``identical``), GitLab's merge base (the pushed commit itself). Any failure or odd answer is "cannot
tell", and the pushed commit is read, as it always was: the check may save a step back, never a step
forward.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from catalog_sync.errors import HostApiError
from catalog_sync.sources.hostapi import HostClient

log = logging.getLogger(__name__)

_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_CONTAINS = {"ahead": True, "identical": True, "behind": False, "diverged": False}
"""GitHub's ``status`` of ``compare/{base}...{head}``: how ``head`` stands to ``base``."""


def github_descends(client: HostClient, full_name: str, commit: str, ancestor: str) -> bool | None:
    """Whether ``commit`` has ``ancestor`` in its history, by GitHub's compare (one commit a page: the
    answer's ``status`` is all that is read); None when the host cannot tell."""
    if not (_COMMIT.match(commit) and _COMMIT.match(ancestor)):
        return None
    path = f"/repos/{quote(full_name)}/compare/{ancestor}...{commit}?per_page=1"
    data = _ask(client, path, full_name)
    status = data.get("status") if isinstance(data, dict) else None
    return _CONTAINS.get(status) if isinstance(status, str) else None


def gitlab_descends(client: HostClient, project_id: int, commit: str, ancestor: str) -> bool | None:
    """Whether ``commit`` has ``ancestor`` in its history: their merge base is ``ancestor`` itself;
    None when the host cannot tell (no common history is an error answer there)."""
    if not (_COMMIT.match(commit) and _COMMIT.match(ancestor)):
        return None
    path = f"projects/{project_id}/repository/merge_base?refs%5B%5D={ancestor}&refs%5B%5D={commit}"
    data = _ask(client, path, f"project {project_id}")
    base = data.get("id") if isinstance(data, dict) else None
    return base == ancestor if isinstance(base, str) and _COMMIT.match(base) else None


def _ask(client: HostClient, path: str, shown: str) -> Any:
    """The answer's JSON, or None when the request failed (logged: the push is read anyway)."""
    try:
        return client.get(path, remember=False).data
    except HostApiError as exc:
        log.info("%s: could not tell whether a pushed commit is older than the one read: %s", shown, exc)
        return None


__all__ = ["github_descends", "gitlab_descends"]
