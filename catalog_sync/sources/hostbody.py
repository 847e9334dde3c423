"""A hosting API's answer read within a bound, so a hostile or broken host cannot make the sync hold
gigabytes: urllib3 reads a body whole unless it is streamed (``preload_content=False``), and this reads
at most one byte past the bound, which is enough to tell an answer that fits from one that does not.
An uncompressed answer whose ``Content-Length`` fits is read in one call, as preloading did: http.client
reads that length and no further, so nothing more is needed to bound it (a pass sends three requests
per repository, and the bounded read of an answer without a length costs a second call).

What happens to the connection follows from what was read:

- **The body ended within the bound.** urllib3 hands the connection back to its pool as the last byte
  comes in, so the next request reuses it (keep-alive); ``release_conn`` makes sure of it and does
  nothing otherwise.
- **The body is longer, or its ``Content-Length`` says so.** The rest is never read (``drain_conn``
  would read all of it), so the connection is closed, then handed back closed, as urllib3 itself does
  after a read that broke: the pool connects anew for the next request and never reuses a connection
  with half an answer still in it. A ``Content-Length`` over the bound is refused before a byte of the
  body is read; a smaller one that lies is all that is read (the rest is not this answer's), and an
  answer without one (chunked, or ended by closing) is stopped at the bound.
- **The read failed** (a reset, a timeout, a broken chunk): urllib3 has closed the connection already;
  closing it again costs nothing, and the caller gets urllib3's error.

The bound counts the body as the caller gets it, after any ``Content-Encoding`` is undone: urllib3
(2.6 and later) decompresses no more than a read asks for, so a small compressed answer cannot unfold
into a huge one.
"""

from __future__ import annotations

from collections.abc import Mapping

import urllib3


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The body's length as the ``Content-Length`` header gives it (the largest of repeated values);
    None when there is none or it does not parse, as urllib3 then reads the body to its end."""
    value = headers.get("Content-Length")
    if value is None:
        return None
    try:
        return max(int(part) for part in value.split(","))
    except ValueError:
        return None


def read_within(sent: urllib3.BaseHTTPResponse, limit: int) -> bytes | None:
    """The whole body of a streamed answer, or None when it is longer than ``limit`` bytes (then the
    rest is left unread and the connection closed)."""
    body = b""
    whole = False
    try:
        declared = declared_length(sent.headers)
        if declared is not None and declared <= limit and "Content-Encoding" not in sent.headers:
            body = sent.read()  # the length said and no further
            whole = True
        elif declared is None or declared <= limit:
            body = sent.read(limit + 1)
            whole = len(body) <= limit
    finally:
        if not whole:
            sent.close()
        sent.release_conn()
    return body if whole else None
