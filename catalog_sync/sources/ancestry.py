"""Whether one commit descends from another, asked of a hosting API: so a push delivered late cannot
bring older content back.

Hosts do not promise to deliver webhooks in order, and a redelivery comes whenever someone asks for
it. A repository is read at the commit its push named (``sync.pushes.Pinned``); when the commit read
last already descends from that one, the push is old news and reading it would show older content
until the next periodic pass. One request tells: GitHub's compare (``status`` ``ahead`` or
``identical``), GitLab's merge base (the pushed commit itself). The same question with the branch's
name for ``commit`` tells whether the branch still holds a commit (a force push back to an older
commit is no late delivery, and is read). Any failure or odd answer is "cannot tell", and the pushed
commit is read, as it always was: the check may save a step back, never a step forward.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from catalog_sync.errors import HostApiError
from catalog_sync.sources.hostanswer import COMMIT_ID
from catalog_sync.sources.hostapi import HostClient

log = logging.getLogger(__name__)

_BRANCH = re.compile(r"^[^\x00-\x20\x7f~^:?*\[\\]{1,255}$")
"""A branch name as git allows one (no space, control character or ``~^:?*[\\``; no ``..`` either)."""
_CONTAINS = {"ahead": True, "identical": True, "behind": False, "diverged": False}
"""GitHub's ``status`` of ``compare/{base}...{head}``: how ``head`` stands to ``base``."""


def github_descends(client: HostClient, full_name: str, commit: str, ancestor: str) -> bool | None:
    """Whether ``commit`` (a commit, or a branch's name: its tip now) has ``ancestor`` in its history,
    by GitHub's compare (one commit a page: the answer's ``status`` is all that is read); None when the
    host cannot tell."""
    head = _head(commit)
    if head is None or not COMMIT_ID.match(ancestor):
        return None
    path = f"/repos/{quote(full_name)}/compare/{ancestor}...{head}?per_page=1"
    data = _ask(client, path, full_name)
    status = data.get("status") if isinstance(data, dict) else None
    return _CONTAINS.get(status) if isinstance(status, str) else None


def gitlab_descends(client: HostClient, project_id: int, commit: str, ancestor: str) -> bool | None:
    """Whether ``commit`` (a commit, or a branch's name: its tip now) has ``ancestor`` in its history:
    their merge base is ``ancestor`` itself; None when the host cannot tell (no common history is an
    error answer there)."""
    head = _head(commit)
    if head is None or not COMMIT_ID.match(ancestor):
        return None
    path = f"projects/{project_id}/repository/merge_base?refs%5B%5D={ancestor}&refs%5B%5D={head}"
    data = _ask(client, path, f"project {project_id}")
    base = data.get("id") if isinstance(data, dict) else None
    return base == ancestor if isinstance(base, str) and COMMIT_ID.match(base) else None


def _head(ref: str) -> str | None:
    """A commit as it is, a branch's name quoted for a URL path segment (its slashes as ``%2F``, as
    GitHub's own client sends a path parameter); None for anything else."""
    if COMMIT_ID.match(ref):
        return ref
    if _BRANCH.match(ref) and ".." not in ref:
        return quote(ref, safe="")
    return None


def _ask(client: HostClient, path: str, shown: str) -> Any:
    """The answer's JSON, or None when the request failed (logged: the push is read anyway)."""
    try:
        return client.get(path, remember=False).data
    except HostApiError as exc:
        log.info("%s: could not tell whether a pushed commit is older than the one read: %s", shown, exc)
        return None


__all__ = ["github_descends", "gitlab_descends"]
