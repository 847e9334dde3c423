"""Pruning a github source's API cache, so that it holds what the repositories listed now need.

The cache (``githubapi``) keeps one tree record per repository read and every descriptor blob read,
named by its sha. Left alone it only grows: each version of a descriptor leaves its blob, and a
repository deleted from the organisation leaves its record, so a worker reading 10,000 repositories for
a year would hold hundreds of thousands of files. Two rules bound it, both applied by ``discover``
after a complete listing (a listing that failed part way raises before, and prunes nothing):

- a tree record goes at the second complete listing in a row that misses its repository
  (``removal_listings``), the listing at which the catalog removes the repository too (the rule
  ``cacheprune`` keeps for every cache kept per repository, the clones too; ``missed_records`` says
  why not at the first);
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
from dataclasses import dataclass
from pathlib import Path

from catalog_sync.sources.cacheprune import (
    GRACE_SECONDS,
    MISSED_FILE,
    TEMPORARY,
    MissedListings,
    entries,
    remove_if_old,
    repository_id,
)
from catalog_sync.sources.githubtree import write_whole

BLOB_PRUNE_SECONDS = 24 * 3600.0
"""Blobs are pruned at most this often per source (reading every tree record costs under two seconds
per 10,000 repositories)."""
BLOBS_PRUNED_FILE = "blobs-pruned"
"""Its mtime is when the blobs were last pruned (by whichever worker sharing the folder)."""


@dataclass(frozen=True)
class Pruned:
    """What one prune removed: tree records, and blobs (None when the blobs were not due)."""

    records: int
    blobs: int | None


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
        self._missed = MissedListings(state / MISSED_FILE, listings)
        self._stamp = state / BLOBS_PRUNED_FILE
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
        for entry in entries(self._trees):
            name = entry.name
            if TEMPORARY in name:
                remove_if_old(Path(entry.path), now - self._grace)
            elif name.endswith(".json") and (number := repository_id(name[:-5])) is not None:
                on_disk[number] = Path(entry.path)
        return self._missed.prune(on_disk, listed, lambda record: remove_if_old(record, now - self._grace))

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
        for entry in entries(self._trees) if cached else []:
            if entry.name.endswith(".json"):
                for sha in _named_shas(Path(entry.path)):
                    cached.pop(sha, None)
        removed = sum(remove_if_old(path, now - self._grace) for path in cached.values())
        with contextlib.suppress(OSError):
            write_whole(self._stamp, b"")
            os.utime(self._stamp, (now, now))
        return removed

    def _cached_blobs(self, now: float) -> dict[str, Path]:
        """Every blob of the cache by sha; leftover temporary files are removed on the way."""
        found: dict[str, Path] = {}
        for folder in entries(self._blobs):
            if len(folder.name) != 2 or not folder.is_dir(follow_symlinks=False):
                continue
            for entry in entries(Path(folder.path)):
                if TEMPORARY in entry.name:
                    remove_if_old(Path(entry.path), now - self._grace)
                else:
                    found[folder.name + entry.name] = Path(entry.path)
        return found


def _named_shas(record: Path) -> list[str]:
    """The shas of every file a tree record lists (as ``TreeRecord`` writes it); none when it cannot
    be read. Every file, not only descriptors: keeping a blob costs less than proving no scan reads it."""
    try:
        files = json.loads(record.read_bytes())["files"]
        return [str(row[1]) for row in files]
    except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError):  # damaged: names nothing
        return []


__all__ = [
    "BLOBS_PRUNED_FILE",
    "BLOB_PRUNE_SECONDS",
    "GRACE_SECONDS",
    "MISSED_FILE",
    "ApiCachePruner",
    "Pruned",
]
