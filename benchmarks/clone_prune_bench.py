"""How long the clone pruner costs a pass: it runs after every complete listing of a hosted source.

``python -m benchmarks.clone_prune_bench [--listed 10000] [--clones 100] [--passes 200]`` lays out, in a
temporary folder, ``clones`` clone folders as ``GitRepository`` leaves them (``<id>/<digest>/`` with
``HEAD``, ``shallow``, the pack and branch folders, and ``<digest>.lock``), then times, per pass:

- the usual pass: every clone's repository among the ``listed`` ones, each with the URL its clone was
  made under (nothing to count or remove), both with the pruner's memory of settled folders (a worker's
  later passes) and without it (a worker's first pass: every listed repository's folder is listed);
- a pass where every clone's repository is missed once (each counted, ``missed.json`` written);
- the pass that removes them all (the second listing without them; the folders are small here, so
  this is the pruner's own cost, not the disk's for a large clone);
- the pass after every repository was renamed: each folder holds a clone under the old URL too,
  which goes.

The means are over ``passes`` passes; the page cache is warm, as on a worker.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from catalog_sync.sources.cloneprune import ClonePruner
from catalog_sync.sources.urls import clone_folder_name


def url_of(repository_id: int, name: str = "repo") -> str:
    """The clone URL repository ``repository_id`` is listed with."""
    return f"https://github.example/acme/{name}-{repository_id}.git"


def lay_out(root: Path, repository_id: int, url: str) -> None:
    """One clone folder of ``url`` as ``GitRepository`` leaves it."""
    digest = clone_folder_name(url)
    cache = root / str(repository_id) / digest
    for folder in ("objects/pack", "refs/heads"):
        (cache / folder).mkdir(parents=True)
    for name in ("HEAD", "shallow", "config"):
        (cache / name).write_text("x\n")
    (cache.parent / f"{digest}.lock").touch()


def build(root: Path, clones: int) -> list[int]:
    """``clones`` clone folders named by ids spread over the listed ones; answers the ids."""
    ids = [1 + index * 97 for index in range(clones)]
    for repository_id in ids:
        lay_out(root, repository_id, url_of(repository_id))
    return ids


def mean_seconds(prune: Callable[[], object], passes: int) -> float:
    """The mean time of one prune over ``passes``."""
    started = time.perf_counter()
    for _ in range(passes):
        prune()
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
        listed: Mapping[int, str] = {n: url_of(n) for n in [*range(1, args.listed + 1), *ids]}
        later = time.time() + 2 * 3600  # every clone is past its grace period
        settled = ClonePruner(root, listings=2)
        settled.prune(listed, later)  # a worker's first pass lists every clone folder once
        usual = mean_seconds(lambda: settled.prune(listed, later), args.passes)
        first = mean_seconds(lambda: ClonePruner(root, listings=2).prune(listed, later), args.passes)
        # Each pass counts every clone once: the counts never reach two with the file removed between.
        missed = {n: url for n, url in listed.items() if n not in set(ids)}
        counting = 0.0
        for _ in range(args.passes):
            (root / "missed.json").unlink(missing_ok=True)
            counting += mean_seconds(lambda: ClonePruner(root, listings=2).prune(missed, later), 1)
        (root / "missed.json").unlink(missing_ok=True)
        pruner = ClonePruner(root, listings=2)
        pruner.prune(missed, later)
        started = time.perf_counter()
        removed = pruner.prune(missed, later)
        removing = time.perf_counter() - started
        build(root, args.clones)
        for repository_id in ids:  # renamed on the host: a new clone beside the old one
            lay_out(root, repository_id, url_of(repository_id, "renamed"))
        renamed = {**listed, **{n: url_of(n, "renamed") for n in ids}}
        started = time.perf_counter()
        replaced = ClonePruner(root, listings=2).prune(renamed, later)
        replacing = time.perf_counter() - started
    print(f"{len(listed)} repositories listed, {args.clones} clone folders")
    print(f"usual pass (every clone listed, folders settled): {usual * 1e3:.3f} ms")
    print(f"usual pass, a worker's first (every clone folder listed): {first * 1e3:.3f} ms")
    print(f"a pass missing every clone (counted): {counting / args.passes * 1e3:.3f} ms")
    print(f"the pass removing them: {removing * 1e3:.1f} ms ({removed} removed)")
    print(f"the pass after every clone's repository was renamed: {replacing * 1e3:.1f} ms ({replaced} gone)")
    return 0 if removed == args.clones == replaced else 1


if __name__ == "__main__":
    raise SystemExit(main())
