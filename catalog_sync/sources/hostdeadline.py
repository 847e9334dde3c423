"""A deadline on a hosting API's whole answer, since urllib3's timeouts bound each socket read only.

urllib3's ``Timeout(total=...)`` bounds the connection, then sets the socket's timeout to what is left
for the reads that follow; but a socket timeout bounds *each* read (``recv``), as urllib3's own
documentation warns: a server that sends one byte every fifteen seconds never trips a timeout of
twenty. A host, or a man in the middle of an ``http`` Enterprise URL, trickling its headers or its body
could hold a sync thread for hours.

So every read of an answer goes through ``_DeadlineReader``: before each ``recv`` it cuts the socket's
timeout to what is left until the deadline, and once the deadline has passed it reads nothing more. The
status line, the headers and the body (framed by a length, chunked or ended by closing) must all have
come within ``total`` of the request's start, however the host slices them. The reader sits under
http.client's buffered file, which both http.client (headers) and urllib3 (every body read) read
through, so nothing reads around it; it is installed by the connection classes of the pool
``deadline_pool`` makes, so it costs a clock read per ``recv``, and a ``settimeout`` only once the
time left has shrunk.

A passed deadline is the socket's own ``TimeoutError``, which urllib3 turns into ``ReadTimeoutError``
and answers by closing the connection, as after any broken read: the pool connects anew for the next
request. The deadline is one request's (connect, send, headers, body); a redirect the client follows
is a request of its own.
"""

from __future__ import annotations

import http.client
import io
import socket
import time
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.poolmanager import SSL_KEYWORDS
from urllib3.util import parse_url


class _DeadlineReader(io.RawIOBase):
    """A socket's raw reader whose every read ends by the deadline (``time.monotonic`` seconds)."""

    def __init__(self, raw: io.RawIOBase, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._raw = raw
        self._sock = sock
        self._deadline = deadline
        self._timeout = sock.gettimeout() or 0.0
        """The socket's timeout as last set: setting it costs a system call (and a switch of threads
        while the interpreter lock is let go), so it is cut only once it exceeds what is left by a
        ninth; a read then ends at most a tenth of the time left after the deadline."""

    def readable(self) -> bool:
        """Always: http.client's buffered file asks before it reads."""
        return True

    def readinto(self, buffer: Any) -> int | None:
        """One ``recv``, allowed about what is left of the deadline."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the answer's deadline passed")
        if left < self._timeout * 0.9:
            self._sock.settimeout(left)
            self._timeout = left
        return self._raw.readinto(buffer)

    def close(self) -> None:
        """Close the socket's reader too, as http.client's own file would (the socket counts it)."""
        self._raw.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    """http.client's answer, read through a ``_DeadlineReader``. The deadline is now plus the socket's
    timeout, which urllib3 has just set to what is left of ``Timeout.total`` after connecting and
    sending (none set: no deadline)."""

    def __init__(
        self, sock: socket.socket, debuglevel: int = 0, method: str | None = None, url: str | None = None
    ) -> None:
        left = sock.gettimeout()
        opened = sock if left is None else _DeadlineSocket(sock, time.monotonic() + left)
        super().__init__(opened, debuglevel, method, url)  # type: ignore[arg-type]


class _DeadlineSocket:
    """What http.client's answer asks of its socket, its one file, opened as a ``_DeadlineReader``
    under the buffer http.client reads (one buffer: the socket's own would sit between for nothing)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str = "rb") -> io.BufferedReader:
        """The socket's unbuffered reader (counted by the socket, as ``makefile`` counts every file),
        read within the deadline; http.client opens one, to read (``rb``)."""
        if mode != "rb":
            raise ValueError(f"an answer's socket is only read, not opened as {mode!r}")
        raw = self._sock.makefile("rb", buffering=0)
        return io.BufferedReader(_DeadlineReader(raw, self._sock, self._deadline))


class _Connection(HTTPConnection):
    response_class = _DeadlineResponse


class _TLSConnection(HTTPSConnection):
    response_class = _DeadlineResponse


class _Pool(urllib3.HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


def origin_pool(url: str, **keys: Any) -> urllib3.HTTPConnectionPool:
    """The pool of ``url``'s origin alone (``keys`` as a ``PoolManager``'s), answering within the
    deadline as ``deadline_pool``'s do: for a client whose requests go to one origin, which then
    parses no URL to find its pool (a ``PoolManager`` parses each one three times)."""
    parts = parse_url(url)
    host = parts.host or ""
    if parts.scheme == "https":
        return _TLSPool(host, parts.port, **keys)
    return _Pool(host, parts.port, **{k: v for k, v in keys.items() if k not in SSL_KEYWORDS})


def deadline_pool(**keys: Any) -> urllib3.PoolManager:
    """A ``PoolManager`` (``keys`` as its own) whose answers must arrive whole within the request's
    ``Timeout.total``."""
    pool = urllib3.PoolManager(**keys)
    pool.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}
    return pool
