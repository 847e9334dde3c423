"""How long pruning a github source's API cache takes: the tree records of a large organisation, and
the blobs, which needs every record read.

``python -m benchmarks.prune_bench [--records 10000] [--files 200]`` writes, in a temporary folder,
``records`` tree records of ``files`` files each (as ``TreeRecord`` writes them), one descriptor blob
named by each record and as many that no record names (older versions), then times one record prune
(every repository still listed) and one blob prune, each from a cold start of the pruner. The page
cache is warm (the files were just written), as on a worker that reads its cache at every pass.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from catalog_sync.sources.base import TreeEntry
from catalog_sync.sources.githubprune import ApiCachePruner
from catalog_sync.sources.githubtree import BlobCache, TreeRecord, blob_sha


def build(root: Path, records: int, files: int) -> None:
    """The cache: records with ``files`` entries, one named blob each, as many blobs named by none."""
    blobs = BlobCache(root / "blobs")
    when = datetime(2026, 1, 1, tzinfo=UTC)
    for number in range(records):
        descriptor = f"kind: Product\nmetadata: {{name: svc-{number}}}\n".encode()
        blobs.put(blob_sha(descriptor), descriptor)
        old = descriptor + b"# an older version\n"
        blobs.put(blob_sha(old), old)
        entries = [TreeEntry("catalog-info.yaml", blob_sha(descriptor), 0o100644, len(descriptor))]
        for index in range(files - 1):
            sha = hashlib.sha1(f"{number}/{index}".encode(), usedforsecurity=False).hexdigest()
            entries.append(TreeEntry(f"src/pkg{index % 20}/module_{index}.py", sha, 0o100644, 1000 + index))
        TreeRecord(root / "trees" / f"{number + 1}.json").write("c" * 40, when, "dev@example.com", entries)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        build(root, args.records, args.files)
        listed = set(range(1, args.records + 1))
        later = time.time() + 2 * 3600  # every blob is past its grace period
        pruner = ApiCachePruner(root / "blobs", root / "trees", root, listings=2)
        started = time.perf_counter()
        pruner.prune_records(listed, later)
        records_seconds = time.perf_counter() - started
        started = time.perf_counter()
        removed = ApiCachePruner(root / "blobs", root / "trees", root, listings=2).prune_blobs(later)
        blobs_seconds = time.perf_counter() - started
    print(f"{args.records} records of {args.files} files, {2 * args.records} blobs")
    print(f"records pruned in {records_seconds:.3f} s (every repository listed)")
    print(f"blobs pruned in {blobs_seconds:.3f} s ({removed} removed)")
    return 0 if removed == args.records else 1


if __name__ == "__main__":
    raise SystemExit(main())
