"""A github source's API cache is pruned: the tree record of a repository missing from two complete
listings, the blobs no record names once a day; nothing written or used within the grace period."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

from catalog_sync.sources.base import TreeEntry
from catalog_sync.sources.githubprune import ApiCachePruner, Pruned
from catalog_sync.sources.githubtree import BlobCache, TreeRecord, blob_sha

NOW = time.time()
HOUR = 3600.0
DAY = 24 * HOUR


class Cache:
    """An API cache laid out as ``ApiReader`` writes it, with its files' ages set by hand."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = BlobCache(root / "blobs")
        self.pruner = ApiCachePruner(root / "blobs", root / "trees", root, listings=2)

    def record(self, repository_id: int, *contents: bytes, age: float = DAY) -> TreeRecord:
        record = TreeRecord(self.root / "trees" / f"{repository_id}.json")
        files = [TreeEntry(f"f{i}.yaml", blob_sha(c), 0o100644, len(c)) for i, c in enumerate(contents)]
        record.write("c" * 40, datetime(2026, 1, 1, tzinfo=UTC), "dev@example.com", files)
        _age(record.path, age)
        return record

    def blob(self, content: bytes, age: float = DAY) -> str:
        sha = blob_sha(content)
        self.blobs.put(sha, content)
        _age(self.root / "blobs" / sha[:2] / sha[2:], age)
        return sha


def _age(path: Path, seconds: float) -> None:
    os.utime(path, (NOW - seconds, NOW - seconds))


def test_a_repository_no_longer_listed_loses_its_record_after_two_listings(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    kept, deleted = cache.record(1, b"one"), cache.record(2, b"two")
    assert cache.pruner.prune_records({1}, NOW) == 0
    assert deleted.path.is_file()  # one listing may miss a repository moved between two pages
    assert cache.pruner.prune_records({1}, NOW) == 1
    assert not deleted.path.exists()
    assert kept.path.is_file()
    assert not (tmp_path / "missed.json").exists()  # nothing left to count


def test_a_repository_listed_again_after_one_miss_keeps_its_record(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    moving = cache.record(2, b"two")
    cache.pruner.prune_records(set(), NOW)
    cache.pruner.prune_records({2}, NOW)
    cache.pruner.prune_records(set(), NOW)
    assert moving.path.is_file()


def test_a_record_written_within_the_grace_period_waits_for_the_next_listing(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    fresh = cache.record(2, b"two", age=60)  # another worker sharing the folder just read it
    cache.pruner.prune_records(set(), NOW)
    assert cache.pruner.prune_records(set(), NOW) == 0
    assert fresh.path.is_file()
    assert cache.pruner.prune_records(set(), NOW + 2 * HOUR) == 1


def test_a_blob_no_record_names_goes_unless_it_is_fresh(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.record(1, b"named", b"other file")
    named = cache.blob(b"named")
    orphan = cache.blob(b"an older version of the descriptor")
    fresh = cache.blob(b"just fetched; its record is being written", age=60)
    assert cache.pruner.prune_blobs(NOW) == 1
    assert cache.blobs.get(named) == b"named"
    assert cache.blobs.get(orphan) is None
    assert cache.blobs.get(fresh) is not None


def test_a_cached_blob_used_again_is_spared_as_a_fresh_one(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    reverted = cache.blob(b"a version named again by the read going on")
    assert cache.blobs.keep(reverted)
    assert cache.pruner.prune_blobs(NOW) == 0
    assert cache.blobs.get(reverted) is not None
    assert not cache.blobs.keep("0" * 40)  # not cached: the read fetches it


def test_blobs_are_pruned_at_most_once_a_day(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    assert cache.pruner.prune(set(), NOW).blobs == 0  # never pruned: due at once
    orphan = cache.blob(b"left behind by a later push")
    later = cache.pruner.prune(set(), NOW + HOUR)
    assert later.blobs is None
    assert cache.blobs.get(orphan) is not None
    assert cache.pruner.prune(set(), NOW + DAY).blobs == 1
    assert cache.blobs.get(orphan) is None


def test_a_record_that_cannot_be_read_names_nothing_and_a_stale_temporary_file_goes(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    broken = cache.record(1, b"named")
    broken.path.write_bytes(b'{"files": [')
    sha = cache.blob(b"named")
    left = tmp_path / "blobs" / sha[:2] / f"{sha[2:]}.tmp-1-2"
    left.write_bytes(b"half")
    _age(left, HOUR * 2)
    assert cache.pruner.prune_blobs(NOW) == 1
    assert not left.exists()
    assert cache.blobs.get(sha) is None  # the repository is read again: its record does not parse


def test_a_record_damaged_nested_too_deeply_names_nothing(tmp_path: Path) -> None:
    """Blobs are pruned by ``discover`` after a complete listing: a record damaged into JSON nested
    deeper than the parser goes raised a RecursionError (no ``SourceError``) there, which failed the
    listing, and every pass after, until the file was removed by hand."""
    cache = Cache(tmp_path)
    damaged, kept = cache.record(1, b"named"), cache.record(2, b"kept")
    damaged.path.write_bytes(b"[" * 5000 + b"]" * 5000)
    named, still = cache.blob(b"named"), cache.blob(b"kept")
    assert cache.pruner.prune({1, 2}, NOW) == Pruned(records=0, blobs=1)
    assert cache.blobs.get(named) is None  # the repository is read again: its record does not parse
    assert cache.blobs.get(still) == b"kept"
    assert kept.read("c" * 40) is not None


def test_counts_of_missed_listings_damaged_nested_too_deeply_are_counted_anew(tmp_path: Path) -> None:
    """The counts are ``cacheprune.MissedListings``', read after every complete listing of the source."""
    cache = Cache(tmp_path)
    deleted = cache.record(2, b"two")
    (tmp_path / "missed.json").write_bytes(b"[" * 5000 + b"]" * 5000)
    assert cache.pruner.prune_records(set(), NOW) == 0  # the first miss, counted anew
    assert deleted.path.is_file()
    assert cache.pruner.prune_records(set(), NOW) == 1


def test_a_record_not_named_by_a_repository_id_is_left_alone(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    odd = [tmp_path / "trees" / name for name in ("007.json", "\u00b2.json", "notes.json")]
    for path in odd:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"{}")
        _age(path, DAY)
    for _ in range(3):
        assert cache.pruner.prune_records(set(), NOW) == 0
    assert all(path.is_file() for path in odd)


def test_an_empty_cache_prunes_nothing(tmp_path: Path) -> None:
    pruned = ApiCachePruner(tmp_path / "b", tmp_path / "t", tmp_path / "s", listings=2).prune({1}, NOW)
    assert (pruned.records, pruned.blobs) == (0, 0)
