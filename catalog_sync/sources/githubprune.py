"""Pruning a github source's API cache, so that it holds what the repositories listed now need.

The cache (``githubapi``) keeps one tree record per repository read and every descriptor blob read,
named by its sha. Left alone it only grows: each version of a descriptor leaves its blob, and a
repository deleted from the organisation leaves its record, so a worker reading 10,000 repositories for
a year would hold hundreds of thousands of files. Two rules bound it, both applied by ``discover``
after a complete listing (a listing that failed part way raises before, and prunes nothing):

- a tree record goes at the second complete listing in a row that misses its repository
  (``removal_listings``), the listing at which the catalog removes the repository too; see
  ``missed_records`` for why not at the first;
- a blob goes once no tree record names it. Finding that reads every record (1.7 s for 10,000 records
  of 200 files each on two cores, ``benchmarks/prune_bench.py``), so blobs are pruned at most once per
  ``BLOB_PRUNE_SECONDS`` (a day), remembered by the mtime of ``BLOBS_PRUNED_FILE``. What a day can
  leave behind is bounded by the descriptors changed that day, which a pass reads anyway.

Several worker processes may share one cache folder (``sync.cache_dir`` of one configuration, for
``catalog-sync worker``s started on one machine), so one may be reading a repository into the cache
while another prunes. Nothing written or used less than ``GRACE_SECONDS`` ago is removed: a read writes
its blobs before the record that names them, and touches a cached blob it names again
(``BlobCache.keep``), so a blob is never removed between its use and the record's write. Leftover
temporary files of a write that was interrupted go after the same grace.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from catalog_sync.sources.githubtree import write_whole

GRACE_SECONDS = 3600.0
"""A record or blob written or used less than this long ago is kept: another worker sharing the cache
folder may be reading its repository (a read takes seconds; an hour leaves a wide margin)."""
BLOB_PRUNE_SECONDS = 24 * 3600.0
"""Blobs are pruned at most this often per source (reading every tree record costs under two seconds
per 10,000 repositories)."""
MISSED_FILE = "missed.json"
"""Repository id -> complete listings in a row that missed it, for the ids that still have a record."""
BLOBS_PRUNED_FILE = "blobs-pruned"
"""Its mtime is when the blobs were last pruned (by whichever worker sharing the folder)."""
_TEMPORARY = ".tmp-"


@dataclass(frozen=True)
class Pruned:
    """What one prune removed: tree records, and blobs (None when the blobs were not due)."""

    records: int
    blobs: int | None


def missed_records(
    on_disk: Iterable[int], listed: set[int], missed: Mapping[int, int], listings: int
) -> tuple[list[int], dict[int, int]]:
    """The repositories whose record goes now, and the missed listings counted for the others.

    A record goes at the ``listings``-th complete listing in a row that misses its repository, not at
    the first: a listing read page by page can miss a repository GitHub moved between two pages, and
    that repository, listed again at the next pass with its tip unmoved, is then still held (no tree
    and no blob asked again); and until that listing the catalog keeps the repository (the sync's
    ``removal_listings``), so a worker sharing the cache whose listing still has it can still open
    its record. A repository listed again starts counting from zero."""
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


class ApiCachePruner:
    """Prunes the tree records (``trees``) and blobs (``blobs``) of one source's API cache; its own
    bookkeeping lives in ``state`` (the folder holding both)."""

    def __init__(
        self,
        blobs: Path,
        trees: Path,
        state: Path,
        listings: int,
        grace: float = GRACE_SECONDS,
        blob_interval: float = BLOB_PRUNE_SECONDS,
    ) -> None:
        self._blobs = blobs
        self._trees = trees
        self._missed = state / MISSED_FILE
        self._stamp = state / BLOBS_PRUNED_FILE
        self._listings = max(1, listings)
        self._grace = grace
        self._interval = blob_interval

    def prune(self, listed: set[int], now: float) -> Pruned:
        """After a complete listing of the repositories ``listed`` (those the source reads): remove the
        records of repositories missing long enough, then, when due, the blobs no record names."""
        records = self.prune_records(listed, now)
        blobs = self.prune_blobs(now) if self.blobs_due(now) else None
        return Pruned(records, blobs)

    def prune_records(self, listed: set[int], now: float) -> int:
        """Remove the records ``missed_records`` lets go, unless one was written within the grace
        period (it is counted again at the next listing); answer how many went."""
        on_disk: dict[int, Path] = {}
        for entry in _entries(self._trees):
            name = entry.name
            if _TEMPORARY in name:
                _remove_if_old(Path(entry.path), now - self._grace)
            elif name.endswith(".json") and name[:-5].isdigit():
                on_disk[int(name[:-5])] = Path(entry.path)
        gone, counts = missed_records(on_disk, listed, self._read_missed(), self._listings)
        removed = 0
        for repository_id in gone:
            if _remove_if_old(on_disk[repository_id], now - self._grace):
                removed += 1
            else:
                counts[repository_id] = self._listings
        self._write_missed(counts)
        return removed

    def blobs_due(self, now: float) -> bool:
        """Whether the blobs were last pruned ``blob_interval`` ago or longer (or never)."""
        try:
            return now - self._stamp.stat().st_mtime >= self._interval
        except OSError:
            return True

    def prune_blobs(self, now: float) -> int:
        """Remove the blobs no tree record names, unless written or used within the grace period;
        answer how many went. A record that cannot be read names nothing: it is read again anyway."""
        cached = self._cached_blobs(now)
        for entry in _entries(self._trees) if cached else []:
            if entry.name.endswith(".json"):
                for sha in _named_shas(Path(entry.path)):
                    cached.pop(sha, None)
        removed = sum(_remove_if_old(path, now - self._grace) for path in cached.values())
        with contextlib.suppress(OSError):
            write_whole(self._stamp, b"")
            os.utime(self._stamp, (now, now))
        return removed

    def _cached_blobs(self, now: float) -> dict[str, Path]:
        """Every blob of the cache by sha; leftover temporary files are removed on the way."""
        found: dict[str, Path] = {}
        for folder in _entries(self._blobs):
            if len(folder.name) != 2 or not folder.is_dir(follow_symlinks=False):
                continue
            for entry in _entries(Path(folder.path)):
                if _TEMPORARY in entry.name:
                    _remove_if_old(Path(entry.path), now - self._grace)
                else:
                    found[folder.name + entry.name] = Path(entry.path)
        return found

    def _read_missed(self) -> dict[int, int]:
        try:
            data = json.loads(self._missed.read_bytes())
            return {int(key): int(value) for key, value in data.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    def _write_missed(self, counts: dict[int, int]) -> None:
        """Kept only while some record is counted; nothing is written while nothing is (the usual pass)."""
        if not counts:
            with contextlib.suppress(FileNotFoundError):
                self._missed.unlink()
            return
        with contextlib.suppress(OSError):
            write_whole(self._missed, json.dumps({str(k): v for k, v in sorted(counts.items())}).encode())


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    """A folder's entries; none when it does not exist (yet)."""
    try:
        with os.scandir(folder) as listing:
            return list(listing)
    except OSError:
        return []


def _named_shas(record: Path) -> list[str]:
    """The shas of every file a tree record lists (as ``TreeRecord`` writes it); none when it cannot
    be read. Every file, not only descriptors: keeping a blob costs less than proving no scan reads it."""
    try:
        files = json.loads(record.read_bytes())["files"]
        return [str(row[1]) for row in files]
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return []


def _remove_if_old(path: Path, before: float) -> bool:
    """Remove ``path`` when its mtime is older than ``before``; whether it was removed."""
    try:
        if path.stat().st_mtime >= before:
            return False
        path.unlink()
    except OSError:
        return False
    return True


__all__ = [
    "BLOBS_PRUNED_FILE",
    "BLOB_PRUNE_SECONDS",
    "GRACE_SECONDS",
    "MISSED_FILE",
    "ApiCachePruner",
    "Pruned",
    "missed_records",
]
