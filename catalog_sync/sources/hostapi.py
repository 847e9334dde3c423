"""One HTTP client for the hosting APIs (GitHub, GitLab): the shared budget is kept here, once.

- **Economy.** Every GET is conditional when an earlier answer gave an ETag (``If-None-Match``); a 304
  reuses the stored page, which GitHub does not count against the rate limit. The pages are kept per
  URL (trimmed by the caller to the fields it reads) and persisted under the source's cache folder by
  ``save``, so a restarted worker's first pass is as cheap as any other.
- **Rate limits.** ``Retry-After``, ``x-ratelimit-*`` / ``RateLimit-*``, 429 and GitHub's secondary
  403s are obeyed by waiting, each wait bounded by ``max_wait`` (and the second waited past a window's
  reset, ``ratelimits.RESET_MARGIN``): a longer one fails the request with
  the reason (``RateLimitedError``), so a listing stops rather than stalls. A request refused through
  all its ``retries`` makes the next ``max_wait`` seconds' refusals fail at once, unless the host
  answers anything else first: a host that keeps refusing costs a pass a request per repository, not
  a request's waits per repository.
- **Time.** An answer must arrive whole (headers and body) within ``HostLimits.timeout`` of its
  request (``hostwire``), not merely each socket read within it: a host trickling its answer a byte
  at a time fails the request instead of holding a sync thread for hours.
- **Size.** An answer is read up to ``HostLimits.max_answer_bytes`` and no further (``hostwire``): a
  larger one fails the request (``AnswerTooLargeError``) instead of filling the process's memory.
- **Length.** A listing follows at most ``HostLimits.max_pages`` pages: a host linking page after page,
  each link new, fails the listing instead of holding the pass.
- **Credentials.** The Authorization header is sent only to the configured API's origin. A 401 is
  told to ``renew`` (a GitHub App's token revoked before it expired): when it answers that another
  credential is due, the request is sent once more with it, never more. Redirects
  are never followed by the HTTP library itself: one to the same origin is followed here, one elsewhere
  fails; a ``next`` link to another origin fails the listing. Errors quote the host's message
  redacted, never a header.
- **Counting.** Each answer is reported to the listener set by ``set_request_listener`` (the metrics
  module installs one): the source's name, the status (or ``error``) and the budget left.

This module is the client. Its limits live in ``hostlimits``; the answer and page types, the origin
rules and the listener in ``hostanswer``, the ETag page cache in ``hostcache``, the sending (libcurl,
within the deadline and the size bound) in ``hostwire``, the walk of a paginated list in ``hostpages``.
Their public names are importable from here too, as callers always have.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from urllib3.util import parse_url

from catalog_sync.credentials import fits_a_header
from catalog_sync.errors import AnswerTooLargeError, HostApiError, HostNotFoundError, RateLimitedError
from catalog_sync.sources.hostanswer import (
    NO_ORIGIN,
    Answer,
    Page,
    RequestListener,
    error_text,
    host_message,
    netloc_of,
    origin_of,
    parse_json,
    report_request,
    resolve,
    set_request_listener,
)
from catalog_sync.sources.hostcache import PageCache
from catalog_sync.sources.hostlimits import MAX_ANSWER_BYTES, MAX_PAGES, HostLimits
from catalog_sync.sources.hostpages import walk_pages
from catalog_sync.sources.hostreach import DIRECT, Reach
from catalog_sync.sources.hostwire import HostWire
from catalog_sync.sources.ratelimits import (
    RESET_MARGIN,
    longest_wait,
    remaining_budget,
    reset_at,
    spent_wait,
    wait_before_retry,
)
from catalog_sync.sources.urls import redact

__all__ = [
    "MAX_ANSWER_BYTES",
    "MAX_PAGES",
    "Answer",
    "HostClient",
    "HostLimits",
    "Page",
    "RequestListener",
    "netloc_of",
    "origin_of",
    "set_request_listener",
]

_MAX_REDIRECTS = 3
_MAX_MESSAGE = 300
_TRANSIENT = (502, 503, 504)
_MIB = 1024 * 1024
_AS_SENT = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]*")
"""A request target sent as written: nothing to percent-encode, no fragment (``_sent_form``)."""
_SENT_SECRETS_KEPT = 4
"""Credentials a client keeps to scrub from errors: the current one and those it recently replaced."""


class HostClient:
    """The client of one source's API (``api_url``); thread-safe, one per source."""

    def __init__(
        self,
        source: str,
        api_url: str,
        *,
        authorization: Callable[[], str | None] | None = None,
        renew: Callable[[str], bool] | None = None,
        cache_file: Path | None = None,
        limits: HostLimits | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        reach: Reach = DIRECT,
    ) -> None:
        self.source = source
        self.api_url = api_url.rstrip("/")
        self._origin = origin_of(self.api_url)
        self._authorization = authorization
        self._renew = renew
        self._sent = threading.local()
        """The Authorization value this thread sent last, for ``renew`` to judge."""
        self._cache = PageCache(cache_file, self._origin)
        self._limits = limits or HostLimits()
        self._sleep = sleep
        # Every thread keeps a handle, and with it its connection, open.
        self._wire = HostWire(
            timeout=self._limits.timeout,
            max_bytes=self._limits.max_answer_bytes,
            keep=max(10, 2 * self._limits.parallel),
            reach=reach,
        )
        split = urlsplit(self.api_url)
        self._home = f"{split.scheme}://{split.netloc}"
        self._below = f"{self.api_url}/"
        self._own = self._origin != NO_ORIGIN
        self._headers = {"User-Agent": "catalog-sync", **(headers or {})}
        self._spent_until = 0.0
        self._refused_until = 0.0
        """Until when a rate-limit refusal fails its request at once: set when the host refused one
        request through every wait allowed, cleared by any answer that is not a refusal."""
        self._sent_secrets: dict[str, None] = {}
        """The last credentials sent (``_SENT_SECRETS_KEPT``, oldest first): one thread's error is scrubbed
        of each, since another thread may have sent a replacement (a token minted again) meanwhile."""
        self._checked = ""
        """The credential sent last, checked and remembered as sent (most requests send the same)."""
        self.requests_sent = 0
        """Requests this client sent, conditional or not (a test's and a benchmark's count)."""
        self.remaining: int | None = None
        """The budget the host said was left in its latest answer (None until one said)."""

    def url(self, path: str) -> str:
        """An API URL from a path below ``api_url`` (``/orgs/acme/repos``) or a full URL."""
        return path if "://" in path else f"{self.api_url}/{path.lstrip('/')}"

    def get(self, path: str, trim: Callable[[Any], Any] | None = None, *, remember: bool = True) -> Page:
        """One GET, conditional when an ETag is stored; ``trim`` keeps what the caller reads of the
        JSON before it is stored. ``remember=False`` neither asks conditionally nor stores the answer:
        for content-addressed answers (a commit's tree, a blob), which never change and are cached by
        their caller."""
        url = self.url(path)
        stored = self._cache.stored(url) if remember else None
        extra = {"If-None-Match": stored["etag"]} if stored and stored.get("etag") else {}
        answer = self._send("GET", url, extra)
        if answer.status_code == 304 and stored is not None:
            self._cache.reuse(url)
            return Page(url, stored["data"], stored.get("next"), True, answer.headers.get("Date"))
        self._raise_for(answer)
        data = parse_json(answer, url)
        data = trim(data) if trim is not None else data
        next_url = self._next_link(answer)
        if remember:
            self._cache.store(url, answer.headers.get("ETag"), data, next_url)
        return Page(url, data, next_url, False, answer.headers.get("Date"))

    def get_bytes(self, path: str, accept: str) -> bytes:
        """One GET answered in a media type of its own (``accept``: a blob's raw bytes), its body as
        sent: for content-addressed answers, which the caller checks and caches, so it is neither
        asked conditionally nor stored."""
        url = self.url(path)
        answer = self._send("GET", url, {"Accept": accept})
        self._raise_for(answer)
        return answer.content

    def pages(self, path: str, trim: Callable[[Any], Any] | None = None) -> Iterator[Page]:
        """Every page of a list, following ``Link: rel="next"`` (``hostpages.walk_pages``: the pages
        the previous listing went through are asked ahead, ``HostLimits.parallel`` at a time)."""
        first = self.url(path)
        return walk_pages(
            first,
            lambda url: self.get(url, trim),
            self._cache.known_chain(first),
            parallel=self._limits.parallel,
            max_pages=self._limits.max_pages,
            shown=self._shown,
        )

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """One POST (never cached); its JSON answer."""
        url = self.url(path)
        answer = self._send("POST", url, {}, body=body)
        self._raise_for(answer)
        return parse_json(answer, url)

    def save(self) -> None:
        """Persist the pages answered since the last save (``PageCache.save``)."""
        self._cache.save()

    def keep(self, path: str) -> None:
        """Keep ``path``'s stored page at the next ``save`` unasked (the token's login, read once)."""
        self._cache.reuse(self.url(path))

    def forget(self) -> None:
        """Drop every stored page (a listing that must be read whole again)."""
        self._cache.forget()

    def _sent_form(self, url: str) -> str:
        """``url`` as it is sent: scheme, host and port as ``hostanswer.origin_of`` reads them (the
        origin the credential rules judged), then the request target normalised as urllib3 normalises
        it (dot segments removed, what a URL may not hold percent-encoded, no fragment). A URL below
        ``api_url`` written as it is sent (nearly every one) is taken as it is, unparsed."""
        if self._own and url.startswith(self._below) and "/." not in url:
            target = url[len(self._home) :]
            if _AS_SENT.fullmatch(target):
                return url
        try:
            parsed = parse_url(url)
        except ValueError:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise HostApiError(f"{self._shown(url)}: not an http or https URL; not sent")
        port = f":{parsed.port}" if parsed.port is not None else ""
        return f"{parsed.scheme}://{parsed.host}{port}{parsed.request_uri}"

    def _headers_for(self, url: str, extra: Mapping[str, str]) -> dict[str, str]:
        headers = dict(extra)
        # Below ``api_url`` is on its origin: the authority ends where ``api_url``'s does.
        own = url.startswith(self._below) or origin_of(url) == self._origin
        if own and self._authorization is not None:
            value = self._authorization()
            if value:
                if value != self._checked:
                    if not all(fits_a_header(part) for part in value.split(" ", 1)):
                        # Refused here, before it is remembered as sent, and never shown.
                        raise HostApiError(
                            f"{self._shown(url)}: the credential is not a valid header value; not sent"
                        )
                    self._remember_sent(value.partition(" ")[2] or value)
                    self._checked = value
                headers["Authorization"] = self._sent.value = value
        return headers

    def _remember_sent(self, secret: str) -> None:
        sent = self._sent_secrets
        sent.pop(secret, None)
        sent[secret] = None
        while len(sent) > _SENT_SECRETS_KEPT:
            sent.pop(next(iter(sent)), None)

    def _scrub(self, text: str) -> str:
        """A text from the host with the credentials sent removed, whatever their form (a host may echo
        one, and a token of an Enterprise host has no prefix ``redact`` would know)."""
        for secret in sorted(list(self._sent_secrets), key=len, reverse=True):
            if len(secret) >= 8:
                text = text.replace(secret, "***")
        return redact(text)

    def _send(
        self, method: str, url: str, extra: Mapping[str, str], body: Mapping[str, Any] | None = None
    ) -> Answer:
        """Send, obeying rate limits and following same-origin redirects; answers the final response."""
        attempts = 0
        renewed = False
        while True:
            self._wait_for_budget()
            self._sent.value = None
            answer = self._follow(method, url, extra, body)
            sent = self._sent.value
            if answer.status_code == 401 and not renewed and sent and self._renew and self._renew(sent):
                renewed = True  # another credential is due: sent once, never in a loop
                continue
            now = time.time()
            refused = wait_before_retry(answer.status_code, answer.headers, error_text(answer), now)
            if refused is None:
                self._refused_until = 0.0
            wait = refused
            if wait is None and answer.status_code in _TRANSIENT and attempts == 0:
                wait = self._limits.transient_delay
            if wait is None:
                if (spent := spent_wait(answer.headers, now)) is not None:
                    self._spent_until = now + spent
                return answer
            attempts += 1
            if refused is not None and now < self._refused_until:
                raise RateLimitedError(
                    f"{self._shown(url)}: refused (HTTP {answer.status_code}) while the host still refuses "
                    "what it refused through every wait just before; not waited for, tried again at the "
                    "next pass"
                )
            if wait > longest_wait(answer.headers, now, self._limits.max_wait):
                raise RateLimitedError(
                    f"{self._shown(url)}: the host's rate limit asks to wait {wait:.0f} s, longer than "
                    f"sync.rate_limit_max_wait_seconds ({self._limits.max_wait:g} s); stopped, and tried "
                    "again at the next pass"
                )
            if attempts > self._limits.retries:
                # A host refusing through every wait is not waited on again for a while: the next
                # refusals fail their requests at once, so a pass costs one request per repository.
                self._refused_until = now + self._limits.max_wait
                raise RateLimitedError(
                    f"{self._shown(url)}: still refused (HTTP {answer.status_code}) after "
                    f"{self._limits.retries} waits; tried again at the next pass"
                )
            self._sleep(wait)

    def _wait_for_budget(self) -> None:
        """When the last answer spent the window's budget, wait for its reset (bounded) first."""
        wait = self._spent_until - time.time()
        if wait <= 0:
            return
        if wait > self._limits.max_wait + RESET_MARGIN:
            raise RateLimitedError(
                f"source {self.source!r}: the rate limit is spent for {wait:.0f} s more, longer than "
                f"sync.rate_limit_max_wait_seconds ({self._limits.max_wait:g} s); tried again next pass"
            )
        self._sleep(wait)

    def _follow(
        self, method: str, url: str, extra: Mapping[str, str], body: Mapping[str, Any] | None
    ) -> Answer:
        for _ in range(_MAX_REDIRECTS + 1):
            answer = self._one(method, url, extra, body)
            if answer.status_code not in (301, 302, 303, 307, 308) or "Location" not in answer.headers:
                return answer
            target = resolve(url, answer.headers["Location"])
            if origin_of(target) == NO_ORIGIN:
                raise HostApiError(f"{self._shown(url)}: the host redirects to no URL; not followed")
            if origin_of(target) != self._origin:
                raise HostApiError(
                    f"{self._shown(url)}: the host redirects to another host "
                    f"({'://'.join(origin_of(target)[:2])}); not followed, so no credential leaves the API"
                )
            url = target
        raise HostApiError(f"{self._shown(url)}: more than {_MAX_REDIRECTS} redirects; stopped")

    def _one(self, method: str, url: str, extra: Mapping[str, str], body: Mapping[str, Any] | None) -> Answer:
        self.requests_sent += 1
        headers = {**self._headers, **self._headers_for(url, extra)}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            sent = self._sent_form(url)
            received = self._wire.send(method, sent, headers, payload, lambda: self._shown(url))
        except HostApiError:
            self._tell("error", None)
            raise
        remaining = remaining_budget(received.headers)
        if remaining is not None:
            self.remaining = remaining
        reset = reset_at(received.headers) if remaining is not None else None
        if received.body is None:
            self._tell("error", remaining, reset)
            raise AnswerTooLargeError(
                f"{self._shown(url)}: the host's answer (HTTP {received.status}) is larger than "
                f"{_size(self._limits.max_answer_bytes)}; not read"
            )
        self._tell(str(received.status), remaining, reset)
        return Answer(url, received.status, received.headers, received.body)

    def _tell(self, status: str, remaining: int | None, reset: float | None = None) -> None:
        report_request(self.source, status, remaining, reset)

    def _next_link(self, answer: Answer) -> str | None:
        link = answer.link("next")
        if not link:
            return None
        target = resolve(answer.url or self.api_url, link)
        if origin_of(target) != self._origin:
            where = "is not a URL" if origin_of(target) == NO_ORIGIN else "points to another host"
            raise HostApiError(
                f"{self._shown(answer.url)}: the next page link {where}; not followed, and "
                "the listing is incomplete"
            )
        return str(target)

    def _raise_for(self, answer: Answer) -> None:
        if answer.status_code < 400:
            return
        message = self._scrub(host_message(answer))[:_MAX_MESSAGE]
        hint = {
            401: "the token was refused: check the variable named by auth",
            403: "access refused: check the token's scopes or the app's permissions",
            404: "not found, or not visible to this token",
            407: "the source's proxy asks for credentials: check the variable named by proxy_auth_env",
        }.get(answer.status_code, "the host failed")
        kind = HostNotFoundError if answer.status_code == 404 else HostApiError
        raise kind(
            f"{self._shown(answer.url or '')}: HTTP {answer.status_code} ({hint})"
            + (f": {message}" if message else "")
        )

    def _shown(self, url: str) -> str:
        return f"source {self.source!r}: {redact(url)}"


def _size(count: int) -> str:
    return f"{count // _MIB} MiB" if count % _MIB == 0 else f"{count:,} bytes"
