"""What the hosting-API client hands its callers and the rules of where an answer comes from: kept apart
from the client so the sources that read pages, the metrics that count requests and the client itself
share one definition of an answer, a page and an origin without the client's machinery.

- ``Answer`` (one HTTP answer as read whole) and ``Page`` (its JSON, ``next`` link and whether the
  stored copy answered), with the readings of an answer every request needs: its text, the host's
  own error message and its JSON.
- ``origin_of`` and ``netloc_of``: what must match for a credential to be sent or a link followed, and
  the host a repository's key carries.
- The request listener: each answer is reported to the one ``set_request_listener`` installed (the
  metrics module's); sources sit below the metrics and never import them.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from requests.utils import parse_header_links
from urllib3.util import parse_url

from catalog_sync.errors import HostApiError
from catalog_sync.sources.urls import redact

RequestListener = Callable[[str, str, "int | None", "float | None"], None]
"""Called after each request with the source's name, the answer's status (``error`` when none came),
the budget the host says is left and when its window resets (epoch seconds; None when it did not say)."""

_listener: RequestListener | None = None
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9._~/-]*")
"""A path as hosts write a page's: nothing a parser could read as a user, a port, a query or a fragment."""
_DEFAULT_PORTS = {"https": 443, "http": 80}


def set_request_listener(listener: RequestListener | None) -> None:
    """Install the process's listener (the metrics); sources sit below the metrics and never import them."""
    global _listener
    _listener = listener


def report_request(source: str, status: str, remaining: int | None, reset_at: float | None = None) -> None:
    """Tell the installed listener, if any, of one request's outcome."""
    listener = _listener
    if listener is not None:
        listener(source, status, remaining, reset_at)


MAX_HOST_ID = 2**63 - 1
"""GitHub's and GitLab's repository ids are 64-bit integers; a larger number names no repository."""
COMMIT_ID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
"""A commit as the hosts name it in their answers: SHA-1 or SHA-256, lower-case hex."""
NO_ORIGIN = ("", "", -1)
"""The origin of a URL that does not parse: no real URL has it, so such a URL matches none."""


@functools.lru_cache(maxsize=4096)
def origin_of(url: str) -> tuple[str, str, int]:
    """Scheme, lower-cased host and port: what must match for a credential to be sent. A URL from a host
    (a ``Link`` or ``Location`` header, a listed clone URL) may not parse (a port that is no number or
    out of range, a broken IPv6 address): it has ``NO_ORIGIN``, and is refused like another host's.

    So has a URL whose host urllib3 reads otherwise than this reading does (the client sends each URL
    to the host urllib3 reads in it, ``HostClient._sent_form``): ``https://evil.example\\@api.github.com/``
    names api.github.com here, but urllib3 ends the host at the backslash, as browsers do; trusted by
    this reading alone, such a ``next`` link or redirect would take the token to the other host.

    Remembered for the last 4,096 URLs: the origins a source compares against (its API's, its git
    host's) are asked for each repository of every listing, and two parsers read each URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname or ""
        # Rebuilt from what this reading found, not from its authority's text: that text may hold more
        # than the host (``evil.example\\[::1]:8080`` is [::1] here, evil.example to urllib3).
        named = f"{parts.scheme}://{f'[{host}]' if ':' in host else host}{'' if port is None else f':{port}'}"
        if _connects_to(url) != _connects_to(named):
            return NO_ORIGIN
    except ValueError:
        return NO_ORIGIN
    scheme = parts.scheme.lower()
    return scheme, host.lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def _connects_to(url: str) -> tuple[str, str, int | None]:
    """Where urllib3 connects for ``url``: scheme, host and port as it reads them (a URL it cannot
    read raises a ``ValueError``)."""
    sent = parse_url(url)
    return (sent.scheme or "").lower(), (sent.host or "").lower(), sent.port


def web_page(url: str, origin: str) -> str | None:
    """``url``, redacted and without a query or a fragment, when it is an ``http``/``https`` page on
    ``origin`` (scheme, host and port); None otherwise. A listing's web address is shown and linked by
    the catalog, so a host (or a proxy) must not make it point elsewhere: another host, a
    ``javascript:`` or ``file:`` URL, control text. Files are linked below it (``<page>/blob/...``),
    where a query or a fragment left on it would stand in front of the file's path."""
    if _plainly_below(url, origin):
        return redact(url)
    found = origin_of(url)
    if found[0] not in ("http", "https") or found != origin_of(origin) or not url.isprintable():
        return None
    return redact(urlunsplit(urlsplit(url)._replace(query="", fragment="")))


def on_origin(url: str, origin: str) -> bool:
    """Whether ``url`` is on ``origin`` (scheme, host and port), as ``origin_of`` reads both. A URL that
    does not parse is on no origin, not even on one that does not parse either."""
    if _plainly_below(url, origin):
        return True
    found = origin_of(url)
    return found != NO_ORIGIN and found == origin_of(origin)


def _plainly_below(url: str, origin: str) -> bool:
    """Whether ``url`` is the web ``origin`` followed by a plain path (no user, port, query, fragment or
    escape a parser could read otherwise), so it is on that origin without parsing: a listing names
    ten thousand repositories, and each URL costs two parsers otherwise (``origin_of``)."""
    return (
        origin.startswith(("https://", "http://"))
        and url.startswith(origin)
        and _PLAIN_PATH.fullmatch(url, len(origin)) is not None
    )


def resolve(base: str, link: str) -> str:
    """``link`` read relative to ``base`` (a ``Link`` or ``Location`` header); one that does not parse
    is answered as written, and its origin (``NO_ORIGIN``) matches none."""
    try:
        return urljoin(base, link)
    except ValueError:
        return link


def netloc_of(url: str) -> str:
    """The lower-cased ``host[:port]`` of a URL, as repository keys carry it."""
    return urlsplit(url).netloc.rpartition("@")[2].lower()


@dataclass(frozen=True)
class Page:
    """One answer: its JSON (trimmed, when the caller asked), its ``next`` link, and whether the stored
    copy answered (a 304)."""

    url: str
    data: Any
    next_url: str | None
    from_cache: bool
    date: str | None = None
    """The answer's ``Date`` header as sent (read as a time only when asked: ``answered_at``)."""

    @property
    def answered_at(self) -> float | None:
        """When the host answered, on its own clock (epoch seconds); None when it did not say. A host's
        own times (GitLab's ``last_activity_at``) are compared with this, never with this machine's
        clock, which may differ from the host's by minutes."""
        return http_date(self.date)


def http_date(value: str | None) -> float | None:
    """An HTTP date (a ``Date`` header) in epoch seconds; None when there is none or it is no date."""
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    except (TypeError, ValueError, OverflowError):  # no date, or a year out of range
        return None


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as read whole: where it came from, its status, headers and body."""

    url: str
    status_code: int
    headers: Mapping[str, str]
    """Case-insensitive, as HTTP headers are."""
    content: bytes

    def link(self, relation: str) -> str | None:
        """The URL of a ``Link`` header's relation (``next``), as written."""
        value = self.headers.get("Link")
        if not value:
            return None
        for link in parse_header_links(value):
            if link.get("rel") == relation and link.get("url"):
                return str(link["url"])
        return None


def error_text(answer: Answer) -> str:
    """The start of an error answer's body as text (empty for a success), for the rate-limit rules
    that read the host's words."""
    if answer.status_code < 400:
        return ""
    return answer.content[:4096].decode("utf-8", "replace")


def host_message(answer: Answer) -> str:
    """The host's own error message (GitHub's and GitLab's ``message``), printable; scrub it before use.
    An answer nested deeper than the parser (or ``str``) goes is shown as its text: its
    ``RecursionError`` is no ``SourceError``, and would stop the whole pass instead of its listing."""
    text = error_text(answer)
    with contextlib.suppress(ValueError, RecursionError):
        data = json.loads(text)
        if isinstance(data, dict):
            text = str(data.get("message") or data.get("error") or "")
    return "".join(c if c.isprintable() else " " for c in text).strip()


def parse_json(answer: Answer, url: str) -> Any:
    """The answer's JSON, or an error naming the (redacted) URL when the host sent something else."""
    return load_json(answer.content, f"{redact(url)}: the host's answer", f" (HTTP {answer.status_code})")


def load_json(content: bytes, shown: str, status: str = "") -> Any:
    """JSON from a host, or ``HostApiError``: ``shown`` says whose answer, ``status`` follows the
    reason. Nesting deeper than Python's recursion limit (a page of ``[[[[...``) is refused like any
    other answer that is not JSON: the parser's ``RecursionError`` would otherwise escape as a bug
    and stop the whole sync pass, every source with it."""
    try:
        return json.loads(content)
    except ValueError:
        raise HostApiError(f"{shown} is not JSON{status}") from None
    except RecursionError:
        raise HostApiError(f"{shown} is JSON nested too deeply to read{status}") from None
