"""Reading the fields of a delivery's JSON, each checked, so a hostile or broken payload is refused with
the field named instead of failing somewhere deeper (or, worse, scheduling the wrong repository).

Only the few fields the catalog acts on are read: ids, refs, the pushed commit, paths and URLs. The
file lists of a push are never read (GitLab keeps 20 commits of them, Bitbucket 5): the repository is
read at the pushed commit, whatever the payload says changed. A NUL or another control character is
refused in the fields read only (they are stored or compared); anywhere else, a commit message say, it
is never read and costs the delivery nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from catalog_sync.store.webhook_events import HostRepository

COMMIT = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})$")
"""A full object id: SHA-1 or SHA-256, lower-case hex."""
NO_COMMIT = re.compile(r"^(0{40}|0{64})$")
"""``after`` of a push that deleted the branch: the all-zero id, SHA-1 or SHA-256 long."""
MAX_ID = 2**63 - 1
MAX_TEXT = 1024
BRANCH_PREFIX = "refs/heads/"
_CONTROL = re.compile(r"[\x00-\x1f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
"""JSON's ``\\ud800`` escapes decode to lone surrogates, which no database driver can encode."""


class PayloadError(ValueError):
    """A field of the delivery is missing or not what the host sends; the message names it."""


def value(document: dict[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` (None when any step is missing or not an object)."""
    found: Any = document
    for step in path.split("."):
        if not isinstance(found, dict):
            return None
        found = found.get(step)
    return found


def text(document: dict[str, Any], path: str, *, required: bool = True) -> str | None:
    """A string field of at most ``MAX_TEXT`` characters, without NUL, control characters or unpaired
    surrogates."""
    found = value(document, path)
    if found is None and not required:
        return None
    if not isinstance(found, str) or not found:
        raise PayloadError(f"{path} must be a non-empty string")
    if len(found) > MAX_TEXT:
        raise PayloadError(f"{path} must be at most {MAX_TEXT} characters")
    if _CONTROL.search(found):
        raise PayloadError(f"{path} must not contain control characters (NUL, line breaks, tabs)")
    if _SURROGATE.search(found):
        raise PayloadError(f"{path} must be valid Unicode (it holds an unpaired surrogate escape)")
    return found


def host_id(document: dict[str, Any], *paths: str) -> str:
    """The host's numeric repository id from the first of ``paths`` present."""
    for path in paths:
        found = value(document, path)
        if found is None:
            continue
        if isinstance(found, bool) or not isinstance(found, int) or not 0 < found <= MAX_ID:
            raise PayloadError(f"{path} must be a positive integer")
        return str(found)
    raise PayloadError(f"{paths[0]} is missing")


def commit(document: dict[str, Any], path: str) -> str | None:
    """A pushed commit; None for the all-zero id of a deleted branch."""
    found = text(document, path)
    assert found is not None
    if NO_COMMIT.match(found):
        return None
    if not COMMIT.match(found):
        raise PayloadError(f"{path} must be a full commit id (40 or 64 lower-case hex digits)")
    return found


def branch_of(ref: str) -> str | None:
    """The branch a ref names (``refs/heads/main`` -> ``main``); None for a tag or another ref."""
    return (
        ref[len(BRANCH_PREFIX) :] if ref.startswith(BRANCH_PREFIX) and len(ref) > len(BRANCH_PREFIX) else None
    )


def netloc(document: dict[str, Any], path: str, *, api: Callable[[str], str] | None = None) -> str | None:
    """The lower-cased ``host[:port]`` of a URL field (None when absent), without any user part; with
    ``api``, that of the API it belongs to (a GitHub web host's)."""
    url = text(document, path, required=False)
    return None if url is None else url_host(url, path, api=api)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_host(url: str, name: str, *, api: Callable[[str], str] | None = None) -> str:
    """The lower-cased ``host[:port]`` of the http(s) URL ``url`` (named ``name`` when refused), as the
    sources key their repositories: an IPv6 address in brackets (``[fd00::1]:8443``), no port where it
    is the scheme's own (``https://gl.example:443`` is ``gl.example``, as a configured ``api_url``)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        raise PayloadError(f"{name} must be an http(s) URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise PayloadError(f"{name} must be an http(s) URL")
    host = f"[{host}]" if ":" in host else host
    found = f"{host}:{port}" if port and port != _DEFAULT_PORTS[parts.scheme] else host
    return api(found) if api is not None else found


def repository(provider: str, identifier: str, host: str | None) -> HostRepository:
    """How the delivery names its repository (see ``HostRepository``)."""
    return HostRepository(provider=provider, host_id=identifier, netloc=host)
