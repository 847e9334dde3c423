"""One page of GitHub's repository list, read as untrusted input: each entry reduced to the fields the
``github`` source reads, each checked for its type before it is used and stored in the ETag cache.

An entry the source cannot identify (no numeric id, no ``owner/name``) is kept on the page as a
``{"skipped": reason}`` marker, stored in the ETag cache with the page: the source reads every other
repository and reports the listing incomplete, so it removes nothing, also when a later pass gets the
same page back as a 304. An id is GitHub's 64-bit one; a name is ``owner/name`` of the characters
GitHub allows, neither part ``.`` or ``..`` (the name is put into API paths, where a dot segment
would climb). Other fields of the wrong type are read as absent: an empty text, no topics, not a
fork, not archived.
"""

from __future__ import annotations

import re
from typing import Any

from catalog_sync.errors import HostApiError
from catalog_sync.sources.hostanswer import MAX_HOST_ID

_FULL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")


def listed_repository(item: Any) -> dict[str, Any]:
    """One repository of a list answer, reduced to what is read and checked, or a HostApiError."""
    if not isinstance(item, dict):
        raise HostApiError("the host's repository list holds something that is not a repository")
    rid, full_name = item.get("id"), item.get("full_name")
    if not isinstance(rid, int) or isinstance(rid, bool) or not 0 < rid <= MAX_HOST_ID:
        raise HostApiError("a repository of the host's list has no numeric id")
    if (
        not isinstance(full_name, str)
        or not _FULL_NAME.match(full_name)
        or any(part in (".", "..") for part in full_name.split("/"))
    ):
        raise HostApiError(f"repository {rid} of the host's list has no valid full_name")
    topics = item.get("topics")
    topics = topics if isinstance(topics, list) else []
    texts = {k: item.get(k) for k in ("html_url", "clone_url", "default_branch", "pushed_at")}
    return {
        "id": rid,
        "full_name": full_name,
        **{k: v if isinstance(v, str) else "" for k, v in texts.items()},
        "topics": [t for t in topics if isinstance(t, str)][:100],
        "fork": item.get("fork") is True,
        "archived": item.get("archived") is True,
        "disabled": item.get("disabled") is True,
    }


SKIPPED = "skipped"
"""The key of an entry that could not be read: its value says why."""


def trim_page(data: Any) -> list[dict[str, Any]]:
    """A page of a repository list as stored in the ETag cache: the fields read, checked; an entry that
    cannot be identified is a ``SKIPPED`` marker (a page that is not a list fails the listing)."""
    if not isinstance(data, list):
        raise HostApiError("the host's answer is not a repository list")
    return [_trim_entry(item) for item in data]


def trim_installation_page(data: Any) -> list[dict[str, Any]]:
    """A page of an App installation's list (``{"total_count": N, "repositories": [...]}``), stored as
    a page of any other list is: its repositories, trimmed (``trim_page``)."""
    repositories = data.get("repositories") if isinstance(data, dict) else None
    if not isinstance(repositories, list):
        raise HostApiError("the host's answer is not an installation's repository list")
    return trim_page(repositories)


def owner_of(listed: dict[str, Any]) -> str:
    """The owner's login of a trimmed entry, in lower case: the first part of its checked
    ``full_name``, which GitHub spells from the owner's login."""
    return str(listed["full_name"]).partition("/")[0].lower()


def _trim_entry(item: Any) -> dict[str, Any]:
    try:
        return listed_repository(item)
    except HostApiError as exc:
        return {SKIPPED: str(exc)}


__all__ = ["SKIPPED", "listed_repository", "owner_of", "trim_installation_page", "trim_page"]
