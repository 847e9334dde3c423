"""Repository URLs: which transports git may use, and keeping credentials out of everything we show.

A repository URL comes from configuration or from ``POST /api/repositories``, so it is untrusted: git
understands far more than web addresses (``ext::`` runs any command, ``fd::`` reads a descriptor, a
leading ``-`` becomes an option). ``check_url`` decides the transport the way git will, and refuses
anything outside ``sync.allowed_protocols`` before git ever runs.

URLs may also carry credentials (``https://user:token@host``, ``?private_token=``). ``redact`` removes
them from any text: stored URLs, log lines, error messages and git's own stderr.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from catalog_sync.credentials import (
    HOSTING_TOKEN,
    SECRET_NAME,
    SECRET_PARAM,
    Userinfo,
    url_starts,
    user_is_token,
    userinfo_at,
)
from catalog_sync.errors import ProtocolNotAllowedError

_HELPER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9+.-]*)::")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SCHEME_ALIASES = {
    "https": "https",
    "http": "http",
    "ssh": "ssh",
    "git+ssh": "ssh",
    "ssh+git": "ssh",
    "git": "git",
    "file": "file",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def transport_of(url: str) -> str:
    """The transport git would use for ``url``; ``check_url`` decides with it, tests read it."""
    helper = _HELPER.match(url)
    if helper:
        return helper.group(1).lower()
    scheme = _SCHEME.match(url)
    if scheme:
        name = scheme.group(1).lower()
        return _SCHEME_ALIASES.get(name, name)
    # git's own rule (url_is_local_not_ssh): a ':' before any '/' makes an scp-like ssh address.
    colon, slash = url.find(":"), url.find("/")
    if colon > 0 and (slash == -1 or colon < slash):
        return "ssh"
    return "file"


def scp_split(url: str) -> tuple[str, str]:
    """The authority and the path of an scp-like ``[user@]host:path``, split where git splits it.

    Git (``host_end`` in connect.c) skips a bracketed part first, so ``git@[::1]:r.git`` is the host
    ``::1`` and ``[git@10.0.0.1]:r.git`` the host ``10.0.0.1``; the path starts at the first ``:`` after
    it. The authority keeps its brackets; ``scp_host`` takes them off.
    """
    bracket = url.find("@[")
    start = bracket + 1 if bracket != -1 else 0
    end = 0
    if url[start : start + 1] == "[":
        close = url.find("]", start + 1)
        end = close + 1 if close != -1 else 0
    colon = url.find(":", end)
    if colon == -1:
        return url, ""
    return url[:colon], url[colon + 1 :]


def scp_host(authority: str) -> tuple[str, str, int | None]:
    """The user, host and port git connects to for the authority of an scp-like address."""
    bracket = authority.find("@[")
    start = bracket + 1 if bracket != -1 else 0
    if authority[start : start + 1] == "[" and "]" in authority[start:]:
        close = authority.index("]", start)
        authority = authority[:start] + authority[start + 1 : close] + authority[close + 1 :]
    user, _, host = authority.rpartition("@")
    name, colon, digits = host.rpartition(":")
    if colon and digits.isdigit() and ":" not in name and int(digits) < 65536:
        return user, name, int(digits)
    return user, host, None


def _refuse(url: str, reason: str) -> ProtocolNotAllowedError:
    return ProtocolNotAllowedError(f"repository URL {redact(url)!r} refused: {reason}")


def _ssh_parts(url: str) -> list[str]:
    """User, host and path of an ssh address: none of them may look like a command-line option."""
    scheme = _SCHEME.match(url)
    if scheme:
        rest = url[scheme.end() :]
        authority, _, path = rest.partition("/")
        user, host, _port = scp_host(authority)  # git takes the brackets off a host: '[-oX]' is '-oX'
        return [user, host, path]
    authority, path = scp_split(url)
    user, host, _port = scp_host(authority)
    return [user, host, path]


def check_url(url: str, allowed: Iterable[str]) -> str:
    """Answer ``url`` when git may fetch it with one of the ``allowed`` transports; refuse otherwise.

    Runs before any git process is started, so a hostile URL never reaches git. Git's own
    ``protocol.allow`` settings are applied as well when it runs (see ``sources.git``): two locks.
    """
    allowed_set = {a.lower() for a in allowed}
    allowed_text = ", ".join(sorted(allowed_set)) or "none"
    if not isinstance(url, str) or not url.strip():
        raise ProtocolNotAllowedError("repository URL is empty")
    if _CONTROL.search(url):
        raise _refuse(url, "it contains control characters (such as a newline)")
    if url.startswith("-"):
        raise _refuse(url, "it starts with '-', which git would read as an option")
    helper = _HELPER.match(url)
    if helper:
        raise _refuse(url, f"the '{helper.group(1)}::' form runs a git remote helper, which is never allowed")
    transport = transport_of(url)
    if transport not in _SCHEME_ALIASES.values():
        raise _refuse(url, f"unknown transport '{transport}'; allowed: {allowed_text}")
    if transport not in allowed_set:
        raise _refuse(url, f"the transport '{transport}' is not in sync.allowed_protocols ({allowed_text})")
    if transport == "ssh" and any(part.startswith("-") for part in _ssh_parts(url)):
        raise _refuse(url, "a user, host or path starting with '-' would reach ssh as an option")
    return url


def _secret_param(match: re.Match[str]) -> str:
    """A secret parameter's value as ``***``; one already redacted is left as it is, so redacting a
    text twice (a URL, then the message quoting it) changes nothing the second time."""
    value = match.group("value")
    if not value or _ALREADY_HIDDEN.match(value) or not SECRET_NAME.search(match.group("name")):
        return match.group(0)
    return f"{match.group('lead')}***"


_ALREADY_HIDDEN = re.compile(r"\*\*\*(?:$|[:'\")>,;.!?])")
REDACTED = "***"


def _userinfo_shown(info: Userinfo) -> str | None:
    """What a URL's userinfo becomes when shown, or ``None`` when it may stay as it is."""
    user = "***" if user_is_token(info.user) else info.user
    if info.password is not None and info.password != REDACTED:
        return f"{user}:***"
    return user if user != info.user else None


def _redact_userinfo(text: str) -> str:
    parts: list[str] = []
    done = 0
    for found in url_starts(text):
        if found.start < done:
            continue  # inside a password already hidden
        info = userinfo_at(text, found.authority)
        shown = _userinfo_shown(info) if info is not None else None
        if info is None or shown is None:
            continue
        parts += [text[done : info.start], shown]
        done = info.end
    return "".join(parts) + text[done:] if parts else text


def redact(text: str) -> str:
    """``text`` with every credential in a URL replaced by ``***``; safe for logs, errors and the API.

    A URL's password goes whatever it holds (``https://alice:S3C'RET@host`` becomes
    ``https://alice:***@host``: the userinfo ends at the last ``@`` before the path), its user name
    stays unless it is itself a token; query parameters named like secrets (``private_token``,
    ``pass``, ``jwt``, ``sig``, ...) lose their values; a GitHub or GitLab token (``ghp_...``,
    ``github_pat_...``, ``glpat-...``) is replaced wherever it is. Redacting twice changes nothing more.
    """
    if not text:
        return text
    text = _redact_userinfo(text)
    text = SECRET_PARAM.sub(_secret_param, text)
    return HOSTING_TOKEN.sub("***", text)


def clone_folder_name(url: str) -> str:
    """The name of the folder a cache clone of ``url`` is kept in: a digest of the redacted URL, so a
    credential in the URL neither shows in the name nor changes it. The clone pruner names the current
    clone of a listed repository by it, so a clone kept under a URL since renamed can be told apart."""
    return hashlib.sha256(redact(url).encode()).hexdigest()[:16]


_DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22, "git": 9418}


def canonical_url(url: str) -> str:
    """One spelling per repository: scheme (``ssh`` for its aliases) and host in lower case, no default
    port, no ``//`` in the path, no trailing ``/``, no query and no fragment (git sends neither to pick a
    repository).

    Local paths are left as they are; an scp-like ``[user@]host:path`` keeps its form.
    """
    if _SCHEME.match(url) is None:
        if transport_of(url) != "ssh":
            return url
        authority, path = scp_split(url)
        user, at, host = authority.rpartition("@")
        return f"{user}{at}{host.lower()}:{_clean_path(path)}"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if _SCHEME_ALIASES.get(scheme) == "ssh":  # git+ssh:// and ssh+git:// are git's other names for ssh://
        scheme = "ssh"
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    user = f"{parts.username}@" if parts.username else ""
    shown_port = (
        f":{port}" if port is not None and port != _DEFAULT_PORTS.get(_SCHEME_ALIASES.get(scheme, "")) else ""
    )
    path = _clean_path(parts.path)
    if scheme in ("http", "https"):
        path = _web_path(path)
    return urlunsplit((scheme, f"{user}{host}{shown_port}", path, "", ""))


_UNRESERVED_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _web_path(path: str) -> str:
    """A web path as every HTTP client sends it (RFC 3986): ``.`` and ``..`` segments resolved, as
    curl does before git's request leaves, and escapes of unreserved characters (``%61`` for ``a``)
    decoded, since a server reads both spellings as one."""

    def unescape(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else match.group(0).upper()

    kept: list[str] = []
    for segment in _UNRESERVED_ESCAPE.sub(unescape, path).split("/")[1:]:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    return "/" + "/".join(kept) if path.startswith("/") else path


def _clean_path(path: str) -> str:
    path = re.sub(r"/{2,}", "/", path)
    return path.rstrip("/") or path[:1]


CASELESS_HOSTS = frozenset({"github.com", "www.github.com", "gitlab.com"})
"""Hosts whose owners, groups and repositories are named alike in any case (``Acme/Pay`` is
``acme/pay``): one repository however a URL spells them. Other hosts may tell cases apart."""


def repository_identity(url: str) -> str:
    """What makes two URLs one repository: the canonical URL without a ``.git`` suffix, and without the
    user of a web URL, which only picks the credential git sends (over ssh it is the account logged in);
    on a host of ``CASELESS_HOSTS``, in any case."""
    canonical = canonical_url(url)
    if transport_of(canonical) in ("http", "https"):
        parts = urlsplit(canonical)
        canonical = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    if _host_of(canonical) in CASELESS_HOSTS:
        canonical = canonical.lower()
    return canonical[:-4] if canonical.lower().endswith(".git") else canonical


def _host_of(url: str) -> str | None:
    """The lower-cased host a URL (or an scp-like address) names; None when it names none."""
    try:
        host = urlsplit(url).hostname if "://" in url else scp_host(scp_split(url)[0])[1]
    except ValueError:
        return None
    return host.lower() if host else None


__all__ = [
    "canonical_url",
    "check_url",
    "clone_folder_name",
    "redact",
    "repository_identity",
    "scp_host",
    "scp_split",
    "transport_of",
]
