"""How far one request to a hosting API may go: its time, its size, the pages a listing follows and
the rate-limit waits obeyed (``hostapi.HostClient`` enforces them)."""

from __future__ import annotations

from dataclasses import dataclass

from catalog_sync.config import SyncSettings

_MIB = 1024 * 1024

MAX_ANSWER_BYTES = 16 * _MIB
"""The largest answer read. The largest the APIs give are a recursive tree (GitHub cuts one at 100,000
entries or 7 MB; one above this bound is read by a shallow fetch instead, as a cut one is) and a list
page of 100 repositories (hundreds of KB). Blobs are bounded by ``descriptors.max_file_bytes``, so the
client that reads them raises its bound to the largest allowed (``githubapi.blob_answer_bytes``). A
constant rather than a setting: no legitimate answer comes near it, while each request in flight
(``sync.concurrency`` of them) may hold one answer this large."""


MAX_PAGES = 2000
"""The most pages one listing follows: 200,000 repositories at 100 a page. A host that links page after
page without end (each link new, so no loop shows) fails the listing instead of holding the pass."""


@dataclass(frozen=True)
class HostLimits:
    """How long a request may take, and the longest rate-limit wait obeyed before failing."""

    timeout: float = 30.0
    """Seconds an answer may take, from connecting to its body's last byte."""
    max_wait: float = 60.0
    retries: int = 3
    transient_delay: float = 0.5
    parallel: int = 1
    """Requests in flight at once: list pages asked ahead, and the connections kept open."""
    max_answer_bytes: int = MAX_ANSWER_BYTES
    """The largest answer read; a larger one fails its request unread."""
    max_pages: int = MAX_PAGES
    """The most pages one listing follows (``pages``); a longer one fails."""

    @classmethod
    def of(cls, sync: SyncSettings) -> HostLimits:
        """A request may take as long as git may to name a tip; waits are bounded by their setting;
        as many requests are in flight as tips are asked at once (``sync.concurrency``)."""
        return cls(
            timeout=sync.tip_timeout_seconds,
            max_wait=sync.rate_limit_max_wait_seconds,
            parallel=sync.concurrency,
        )
