"""Sending one request to a hosting API and reading its answer whole: libcurl, through pycurl.

A full pass sends three requests per repository, so what a request costs the syncing process's one
interpreter bounds the pass. libcurl parses the status line and the headers, undoes any
``Content-Encoding`` and enforces the deadline in C, with the interpreter lock let go while it waits; a
request costs the interpreter a third of what it cost through urllib3 and http.client.

What the client relies on, set on every handle:

- **A deadline on the whole answer** (``CURLOPT_TIMEOUT_MS``): connecting, sending, the status line, the
  headers and the body must all be done within ``timeout`` of the request's start, however the host
  slices them. A host trickling its answer a byte at a time fails the request instead of holding a
  sync thread for hours.
- **A bound on the answer's size**: the body is read up to ``max_bytes`` (after any ``Content-Encoding``
  is undone, so a small compressed answer that unfolds into a large one is bound too) and no further; a
  declared length over the bound is refused before the body is read. Either answers ``body=None``.
- **Nothing from the environment**: no proxy (``http_proxy``, ``no_proxy`` and their kin are ignored;
  the source's own proxy, ``Reach.proxy``, is used when it has one), no ``.netrc``. Redirects are not
  followed (the client follows those to its own origin). Only ``http`` and ``https``; HTTP/1.1; the
  authorities trusted are the source's (``Reach.api_ca_file``).
- **Nothing sent that a header may not carry**: a header holding a line break or a NUL (an ETag a host
  answered, a credential) is refused before the request is sent, as http.client refuses it.

The URL handed here must already be in the form that is sent: the client builds it from the origin it
checked and a normalised request target (``hostapi``), so libcurl's own reading of URLs decides nothing.
Handles are kept for reuse (each keeps its connection alive), ``keep`` of them at most.
"""

from __future__ import annotations

import os
import re
import select
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pycurl
from urllib3 import HTTPHeaderDict

from catalog_sync.errors import HostApiError
from catalog_sync.sources.hostreach import DIRECT, Reach
from catalog_sync.sources.urls import redact

_UNSENDABLE_NAME = re.compile(r"[\r\n\0:]")
_UNSENDABLE_VALUE = re.compile(r"[\r\n\0]")
_MAX_MESSAGE = 300
_TUNNEL_REFUSED = (
    "the source's proxy asks for credentials to open a tunnel: check the variable named by proxy_auth_env"
)
_SUPPRESS_CONNECT_HEADERS = getattr(pycurl, "SUPPRESS_CONNECT_HEADERS", 265)
"""``CURLOPT_SUPPRESS_CONNECT_HEADERS`` (libcurl 7.54), which this pycurl does not name."""


@dataclass(frozen=True)
class Received:
    """One answer: its status, its headers (case-insensitive) and its body, None when larger than the
    bound."""

    status: int
    headers: HTTPHeaderDict
    body: bytes | None


class _Reading:
    """The header lines and body bytes of one answer, as libcurl hands them over."""

    def __init__(self, max_bytes: int) -> None:
        self.lines: list[bytes] = []
        self.body = bytearray()
        self.too_large = False
        self._max = max_bytes
        self._ended = False
        self._interim = False

    def header(self, line: bytes) -> None:
        """Keep the lines of the answer's last header section: an interim answer's (``100 Continue``)
        make way for the next status line. The lines libcurl hands over after the final section are a
        chunked body's trailers, which HTTP forbids reading as headers (a trailer must not set the
        rate limit or the next page), however they start."""
        if self._ended:
            if not self._interim:
                return
            self.lines.clear()
            self._ended = False
        self.lines.append(line)
        if not line.strip():
            self._ended = True
            self._interim = 100 <= _status_of(self) < 200

    def write(self, chunk: bytes) -> int | None:
        """Keep the chunk, or stop the transfer (answering 0) once the body would pass the bound."""
        if len(self.body) + len(chunk) > self._max:
            self.too_large = True
            return 0
        self.body.extend(chunk)
        return None

    def headers(self) -> HTTPHeaderDict:
        """The header lines read as HTTP's rules say: a continuation line (obsolete folding) continues
        the header above it; a repeated header is kept as its values joined by a comma."""
        fields: list[list[str]] = []
        for raw in self.lines[1:]:
            line = raw.decode("latin-1").rstrip("\r\n")
            if not line:
                continue
            if line[0] in " \t" and fields:
                fields[-1][1] += " " + line.strip()
                continue
            name, colon, value = line.partition(":")
            if colon:
                fields.append([name.strip(), value.strip()])
        headers = HTTPHeaderDict()
        for name, value in fields:
            headers.add(name, value)
        return headers


class HostWire:
    """The handles of one client; thread-safe (a handle serves one request at a time)."""

    def __init__(self, *, timeout: float, max_bytes: int, keep: int, reach: Reach = DIRECT) -> None:
        self._timeout = timeout
        self._timeout_ms = max(1, int(timeout * 1000))
        self._max_bytes = max_bytes
        self._keep = keep
        self._reach = reach
        self._idle: list[pycurl.Curl] = []
        self._lock = threading.Lock()

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        payload: bytes | None,
        shown: Callable[[], str],
    ) -> Received:
        """Send one GET or POST (the client sends nothing else) to ``url``, already in the form sent,
        and read the answer; ``shown`` names the request in errors (redacted), made only for one."""
        lines = [_header_line(name, value, shown) for name, value in headers.items()]
        lines.append(b"Expect:")  # a body is sent at once, never after an interim answer
        reading = _Reading(self._max_bytes)
        handle = self._take()
        try:
            handle.setopt(pycurl.URL, url)
            handle.setopt(pycurl.HTTPHEADER, lines)
            handle.setopt(pycurl.HEADERFUNCTION, reading.header)
            handle.setopt(pycurl.WRITEFUNCTION, reading.write)
            if method == "POST":
                handle.setopt(pycurl.POSTFIELDS, payload or b"")
            else:
                handle.setopt(pycurl.HTTPGET, 1)
            handle.perform()
            status = int(handle.getinfo(pycurl.RESPONSE_CODE))
        except pycurl.error as exc:
            tunnel = int(handle.getinfo(pycurl.HTTP_CONNECTCODE))
            handle.close()
            code, message = (*exc.args, 0, "")[:2]
            if reading.too_large or code == pycurl.E_FILESIZE_EXCEEDED:
                return Received(_status_of(reading), reading.headers(), None)
            through = f", through the proxy {self._reach.proxy}" if self._reach.proxy else ""
            if code == pycurl.E_OPERATION_TIMEDOUT:  # waiting on the proxy, perhaps: it is named
                unreachable = "the host or its proxy is" if through else "the host is"
                raise HostApiError(
                    f"{shown()}: no whole answer within {self._timeout:g} s "
                    f"(sync.tip_timeout_seconds{through}); {unreachable} unreachable or too slow, "
                    "tried again next pass"
                ) from None
            reason = redact(self._scrub(str(message or "the request failed")))[:_MAX_MESSAGE]
            if tunnel == 407:  # as a 407 to a request in absolute form says (``HostClient``)
                reason = f"{reason}: {_TUNNEL_REFUSED}"
            raise HostApiError(f"{shown()}: {reason} (libcurl error {code}{through})") from None
        except BaseException:
            handle.close()
            raise
        self._give_back(handle)
        return Received(status, reading.headers(), bytes(reading.body))

    def _take(self) -> pycurl.Curl:
        while True:
            with self._lock:
                if not self._idle:
                    break
                handle = self._idle.pop()
            if not _left_unread(handle):
                return handle
            handle.close()
        handle = pycurl.Curl()
        reach = self._reach
        handle.setopt(pycurl.PROXY, reach.proxy or "")
        handle.setopt(pycurl.NOPROXY, "")  # ``no_proxy`` from the environment excepts no host
        if reach.proxy_credentials is not None:  # apart, as written: PROXYUSERPWD would %-decode them
            user, _, password = reach.proxy_credentials.partition(":")
            # In UTF-8, as git sends them (pycurl takes a str in ASCII alone, and raised on any other).
            handle.setopt(pycurl.PROXYUSERNAME, user.encode())
            handle.setopt(pycurl.PROXYPASSWORD, password.encode())
        authorities = os.fsencode(reach.api_ca_file)  # as the file system names it: pycurl takes ASCII str
        handle.setopt(pycurl.PROXY_CAINFO, authorities)
        # The proxy's answer to CONNECT (``200 Connection established``) would otherwise be the first
        # header section read, and the host's own (``Link``, ``ETag``, the rate limit) taken for trailers.
        handle.setopt(_SUPPRESS_CONNECT_HEADERS, 1)
        handle.setopt(pycurl.NOSIGNAL, 1)
        handle.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        handle.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        handle.setopt(pycurl.PATH_AS_IS, 1)
        handle.setopt(pycurl.ACCEPT_ENCODING, "")
        handle.setopt(pycurl.TIMEOUT_MS, self._timeout_ms)
        handle.setopt(pycurl.CONNECTTIMEOUT_MS, self._timeout_ms)
        handle.setopt(pycurl.MAXFILESIZE_LARGE, self._max_bytes)
        handle.setopt(pycurl.CAINFO, authorities)
        return handle

    def _scrub(self, text: str) -> str:
        """libcurl's message with the proxy's password removed, whatever echoed it."""
        for secret in self._reach.secrets():
            if len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    def _give_back(self, handle: pycurl.Curl) -> None:
        """Keep the handle for its connection, without the callbacks holding the last answer read."""
        handle.unsetopt(pycurl.WRITEFUNCTION)
        handle.unsetopt(pycurl.HEADERFUNCTION)
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(handle)
                return
        handle.close()


def _left_unread(handle: pycurl.Curl) -> bool:
    """Whether the connection a handle keeps has bytes (or its end) waiting before a request is sent:
    what a host sent after its answer (a ``Content-Length`` that fell short) would be read as the next
    request's answer. libcurl checks a kept connection only once it has been idle a second; urllib3
    checked each one it reused, as this does."""
    socket = int(handle.getinfo(pycurl.ACTIVESOCKET))
    if socket < 0:
        return False
    waiting = select.poll()
    waiting.register(socket, select.POLLIN)
    return bool(waiting.poll(0))


def _header_line(name: str, value: str, shown: Callable[[], str]) -> bytes:
    """The header as sent; one that would break the request's framing is refused, naming the header
    (never its value: it may be a credential)."""
    if _UNSENDABLE_NAME.search(name) or _UNSENDABLE_VALUE.search(value):
        raise HostApiError(f"{shown()}: the {name[:40]!r} header holds a line break or a NUL; not sent")
    try:
        return f"{name}: {value}".encode("latin-1")
    except UnicodeEncodeError:
        raise HostApiError(
            f"{shown()}: the {name[:40]!r} header holds a character no header carries; not sent"
        ) from None


def _status_of(reading: _Reading) -> int:
    """The status an answer cut short gave in its status line (0 when none was read)."""
    if not reading.lines:
        return 0
    parts = reading.lines[0].split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


__all__ = ["HostWire", "Received"]
