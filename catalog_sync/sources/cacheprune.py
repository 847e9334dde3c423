"""What the pruners of a hosted source's caches share: when an entry kept per repository goes.

A github or gitlab source keeps files per repository it reads: a tree record in the API cache
(``githubprune``), a shallow clone (``cloneprune``). Each goes by one rule, kept here once: at the
``listings``-th complete listing in a row that does not list its repository among those the source
reads (``missed_records``), counted in a small file beside the entries (``MissedListings``), and never
while anything in it was written or used within ``GRACE_SECONDS``, because several workers on one
machine may share the cache folder and one may be reading the repository while another prunes.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path

from catalog_sync.sources.githubtree import write_whole

GRACE_SECONDS = 3600.0
"""An entry written or used less than this long ago is kept: another worker sharing the cache folder
may be reading its repository (a read takes seconds; an hour leaves a wide margin)."""
MISSED_FILE = "missed.json"
"""Repository id -> complete listings in a row that missed it, for the ids that still have an entry."""
TEMPORARY = ".tmp-"
"""In the name of a file or folder being written (``write_whole``) or removed (``cloneprune``)."""


def missed_records(
    on_disk: Iterable[int], listed: AbstractSet[int], missed: Mapping[int, int], listings: int
) -> tuple[list[int], dict[int, int]]:
    """The repositories whose entry goes now, and the missed listings counted for the others.

    An entry goes at the ``listings``-th complete listing in a row that misses its repository, not at
    the first: a listing read page by page can miss a repository the host moved between two pages, and
    that repository, listed again at the next pass with its tip unmoved, is then still held (nothing
    asked or fetched again); and until that listing the catalog keeps the repository (the sync's
    ``removal_listings``), so a worker sharing the cache whose listing still has it can still open
    its entry. A repository listed again starts counting from zero."""
    gone: list[int] = []
    counts: dict[int, int] = {}
    for repository_id in on_disk:
        if repository_id in listed:
            continue
        count = missed.get(repository_id, 0) + 1
        if count >= listings:
            gone.append(repository_id)
        else:
            counts[repository_id] = count
    return gone, counts


class MissedListings:
    """The missed-listing counts of one cache's entries, kept in ``file`` between passes (and between
    the workers sharing the folder)."""

    def __init__(self, file: Path, listings: int) -> None:
        self._file = file
        self._listings = max(1, listings)

    def prune(
        self, on_disk: Mapping[int, Path], listed: AbstractSet[int], remove: Callable[[Path], bool]
    ) -> int:
        """After a complete listing of the repositories ``listed``: ``remove`` the entries of
        ``on_disk`` (repository id -> entry) that ``missed_records`` lets go; one ``remove`` declines
        (in use) is counted as due and tried again at the next listing. Answer how many went."""
        gone, counts = missed_records(on_disk, listed, self._read(), self._listings)
        removed = 0
        for repository_id in gone:
            if remove(on_disk[repository_id]):
                removed += 1
            else:
                counts[repository_id] = self._listings
        self._write(counts)
        return removed

    def _read(self) -> dict[int, int]:
        try:
            data = json.loads(self._file.read_bytes())
            return {int(key): int(value) for key, value in data.items()}
        except (OSError, ValueError, TypeError, AttributeError, RecursionError):  # damaged: counted anew
            return {}

    def _write(self, counts: dict[int, int]) -> None:
        """Kept only while some entry is counted; nothing is written while nothing is (the usual pass)."""
        if not counts:
            with contextlib.suppress(FileNotFoundError):
                self._file.unlink()
            return
        with contextlib.suppress(OSError):
            write_whole(self._file, json.dumps({str(k): v for k, v in sorted(counts.items())}).encode())


def repository_id(name: str) -> int | None:
    """The repository id an entry is named by (``str(id)``), or None: a name written otherwise
    (``007``, ``²``, ``12.tmp-3``) is not one of ours, and is left alone."""
    if not name.isascii() or not name.isdigit() or str(int(name)) != name:
        return None
    return int(name)


def entries(folder: Path) -> list[os.DirEntry[str]]:
    """A folder's entries; none when it does not exist (yet)."""
    try:
        with os.scandir(folder) as listing:
            return list(listing)
    except OSError:
        return []


def remove_if_old(path: Path, before: float) -> bool:
    """Remove the file ``path`` when its mtime is older than ``before``; whether it was removed."""
    try:
        if path.stat().st_mtime >= before:
            return False
        path.unlink()
    except OSError:
        return False
    return True


__all__ = [
    "GRACE_SECONDS",
    "MISSED_FILE",
    "TEMPORARY",
    "MissedListings",
    "entries",
    "missed_records",
    "remove_if_old",
    "repository_id",
]
