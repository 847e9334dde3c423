"""How long the clone pruner costs a pass: it runs after every complete listing of a hosted source.

``python -m benchmarks.clone_prune_bench [--listed 10000] [--clones 100] [--passes 200]`` lays out, in a
temporary folder, ``clones`` clone folders as ``GitRepository`` leaves them (``<id>/<digest>/`` with
``HEAD``, ``shallow``, the pack and branch folders, and ``<digest>.lock``), then times, per pass:

- the usual pass: every clone's repository among the ``listed`` ones (nothing to count or remove);
- a pass where every clone's repository is missed once (each counted, ``missed.json`` written);
- the pass that removes them all (the second listing without them; the folders are small here, so
  this is the pruner's own cost, not the disk's for a large clone).

The first two are the mean of ``passes`` passes; the page cache is warm, as on a worker.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from catalog_sync.sources.cloneprune import ClonePruner

DIGEST = "0123456789abcdef"


def build(root: Path, clones: int) -> list[int]:
    """``clones`` clone folders named by ids spread over the listed ones; answers the ids."""
    ids = [1 + index * 97 for index in range(clones)]
    for repository_id in ids:
        cache = root / str(repository_id) / DIGEST
        for folder in ("objects/pack", "refs/heads"):
            (cache / folder).mkdir(parents=True)
        for name in ("HEAD", "shallow", "config"):
            (cache / name).write_text("x\n")
        (cache.parent / f"{DIGEST}.lock").touch()
    return ids


def mean_seconds(pruner: ClonePruner, listed: set[int], now: float, passes: int) -> float:
    """The mean time of one prune over ``passes``."""
    started = time.perf_counter()
    for _ in range(passes):
        pruner.prune(listed, now)
    return (time.perf_counter() - started) / passes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listed", type=int, default=10_000)
    parser.add_argument("--clones", type=int, default=100)
    parser.add_argument("--passes", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        ids = build(root, args.clones)
        listed = set(range(1, args.listed + 1)) | set(ids)
        later = time.time() + 2 * 3600  # every clone is past its grace period
        usual = mean_seconds(ClonePruner(root, listings=2), listed, later, args.passes)
        # Each pass counts every clone once: the counts never reach two with the file removed between.
        missed = listed - set(ids)
        counting = 0.0
        for _ in range(args.passes):
            (root / "missed.json").unlink(missing_ok=True)
            counting += mean_seconds(ClonePruner(root, listings=2), missed, later, 1)
        (root / "missed.json").unlink(missing_ok=True)
        pruner = ClonePruner(root, listings=2)
        pruner.prune(missed, later)
        started = time.perf_counter()
        removed = pruner.prune(missed, later)
        removing = time.perf_counter() - started
    print(f"{len(listed)} repositories listed, {args.clones} clone folders")
    print(f"usual pass (every clone listed): {usual * 1e3:.3f} ms")
    print(f"a pass missing every clone (counted): {counting / args.passes * 1e3:.3f} ms")
    print(f"the pass removing them: {removing * 1e3:.1f} ms ({removed} removed)")
    return 0 if removed == args.clones else 1


if __name__ == "__main__":
    raise SystemExit(main())
