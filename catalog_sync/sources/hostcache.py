"""The hosting-API client's page cache: each answer with an ETag, kept per URL so the next request for
it is conditional (``If-None-Match``) and a 304 reuses it, which GitHub does not count against the rate
limit; persisted under the source's cache folder (``etags.json``) so a restarted worker's first pass is
as cheap as any other. Kept apart from the client, which only asks it and tells it.

The file follows the listing: ``save`` keeps only the pages asked for since the previous save, so it
never grows without bound, and is skipped when every page answered 304 (the file holds them already).
A file written for another origin is ignored, as is one that does not parse: both cost one full
listing, never a wrong answer. Thread-safe: a listing asks several pages at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Any


class PageCache:
    """The pages of one client's origin (``scheme, host, port``), in memory and in ``file`` (none: in
    memory only)."""

    def __init__(self, file: Path | None, origin: tuple[str, str, int]) -> None:
        self._file = file
        self._origin = origin
        self._lock = threading.Lock()
        self._pages: dict[str, dict[str, Any]] = self._load()
        self._used: set[str] = set()
        self._saved = bool(self._pages)
        """Whether the file holds ``_pages`` as they are (read from it, nothing answered anew since)."""

    def stored(self, url: str) -> dict[str, Any] | None:
        """The page stored for ``url`` (``etag``, ``data``, ``next``), if any."""
        with self._lock:
            return self._pages.get(url)

    def reuse(self, url: str) -> None:
        """Mark ``url``'s stored page as answered again (a 304), so the next save keeps it."""
        with self._lock:
            self._used.add(url)

    def store(self, url: str, etag: str | None, data: Any, next_url: str | None) -> None:
        """Keep a fresh answer for ``url``; one without an ETag cannot be asked conditionally, so any
        older copy is dropped instead."""
        with self._lock:
            self._used.add(url)
            self._saved = False
            if etag:
                self._pages[url] = {"etag": etag, "data": data, "next": next_url}
            else:
                self._pages.pop(url, None)

    def known_chain(self, first: str) -> list[str]:
        """The pages of the previous listing from ``first``, by their stored ``next`` links."""
        chain: list[str] = []
        url: str | None = first
        with self._lock:
            while url is not None and url not in chain:
                stored = self._pages.get(url)
                if stored is None or not stored.get("etag"):
                    break
                chain.append(url)
                url = stored.get("next")
        return chain

    def save(self) -> None:
        """Persist the pages answered since the last save, dropping those no longer asked for, so the
        file follows the listing and never grows without bound."""
        if self._file is None:
            return
        with self._lock:
            kept = {url: page for url, page in self._pages.items() if url in self._used}
            unchanged = self._saved and len(kept) == len(self._pages)
            self._pages, self._used, self._saved = kept, set(), True
            if unchanged:
                return  # every page answered 304: the file already holds them (a large list's JSON)
            pages = _written(kept)
            for url in kept.keys() - pages.keys():
                del self._pages[url]
            origin = json.dumps(list(self._origin), separators=(",", ":"))
            text = f'{{"origin":{origin},"pages":{{{",".join(pages.values())}}}}}'
        self._file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._file.with_name(f"{self._file.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(self._file)

    def forget(self) -> None:
        """Drop every stored page (a listing that must be read whole again)."""
        with self._lock:
            self._pages.clear()
            self._used.clear()
            self._saved = False

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._file is None:
            return {}
        # RecursionError: a damaged file nested deeper than the parser goes is one that does not parse.
        with contextlib.suppress(OSError, ValueError, RecursionError):
            stored = json.loads(self._file.read_text(encoding="utf-8"))
            if isinstance(stored, dict) and stored.get("origin") == list(self._origin):
                pages = stored.get("pages")
                if isinstance(pages, dict):
                    return {str(url): page for url, page in pages.items() if _whole(page)}
        return {}


def _written(pages: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each page as the file holds it (``"url":{...}``), without those nested too deeply to write: an
    answer nested nearly as deep as the parser goes is read in a thread of its own (a page asked ahead),
    whose stack is shallower than the one saving it, and its ``RecursionError`` (no ``SourceError``)
    would stop the whole pass. Such a page is forgotten, and asked again unconditionally."""
    written: dict[str, str] = {}
    for url, page in pages.items():
        with contextlib.suppress(RecursionError):
            written[url] = f"{json.dumps(url)}:{json.dumps(page, separators=(',', ':'))}"
    return written


def _whole(page: Any) -> bool:
    """Whether a stored page is as ``PageCache.store`` writes it: a file edited by hand or damaged keeps
    only those, and a page it lost is asked again unconditionally rather than failing the listing."""
    return (
        isinstance(page, dict)
        and isinstance(page.get("etag"), str)
        and "data" in page
        and isinstance(page.get("next"), str | None)
    )
