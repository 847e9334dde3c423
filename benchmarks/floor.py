"""The floor a sync pass is compared with: the least git work that finds and reads every descriptor.

For each repository, one ``git cat-file --batch`` process resolves the tip, walks its tree level by
level and reads the blobs that match the descriptor patterns; nothing is parsed, stored or scored. A
sync engine cannot be much faster than this with git as its reader, so "x times the floor" says how
much the engine adds on top of git itself.

Run on its own: ``python -m benchmarks.floor ROOT [--workers N] [--format json]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from catalog_sync.config import DEFAULT_PATTERNS
from catalog_sync.descriptors.patterns import compile_patterns


@dataclass(frozen=True)
class FloorResult:
    """One floor run: how long reading every descriptor took, and how much was read."""

    workers: int
    repositories: int
    files: int
    bytes: int
    seconds: float

    @property
    def repos_per_second(self) -> float:
        """Throughput, the figure compared across fleet sizes."""
        return self.repositories / self.seconds if self.seconds else 0.0


def list_repositories(root: Path) -> list[Path]:
    """The immediate sub-folders of ``root`` that are git repositories, bare or not."""
    return sorted(p for p in root.iterdir() if (p / "HEAD").is_file() or (p / ".git").exists())


def _ask(stdin: IO[bytes], stdout: IO[bytes], names: Sequence[str]) -> list[tuple[str, bytes]]:
    """Send a batch of object names, then read every answer: ``(sha, body)`` per name."""
    stdin.write("".join(f"{name}\n" for name in names).encode())
    stdin.flush()
    answers = []
    for _ in names:
        header = stdout.readline().split()
        if len(header) != 3:
            raise RuntimeError(f"git cat-file answered {b' '.join(header)!r}")
        body = stdout.read(int(header[2]) + 1)[:-1]
        answers.append((header[0].decode(), body))
    return answers


def _entries(tree: bytes) -> list[tuple[bool, str, str]]:
    """``(is_tree, name, sha)`` for each entry of a raw tree object."""
    out, pos = [], 0
    while pos < len(tree):
        space = tree.index(b" ", pos)
        nul = tree.index(b"\0", space)
        name = tree[space + 1 : nul].decode()
        out.append((tree[pos:space] == b"40000", name, tree[nul + 1 : nul + 21].hex()))
        pos = nul + 21
    return out


def read_descriptors(repo: Path, patterns: tuple[str, ...] = DEFAULT_PATTERNS) -> tuple[int, int]:
    """Read every descriptor at the tip of ``repo`` with one git process; answer (files, bytes)."""
    matcher = compile_patterns(patterns)
    with subprocess.Popen(
        ["git", "-C", str(repo), "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        [(_, commit)] = _ask(proc.stdin, proc.stdout, ["HEAD"])
        level = [("", commit[5:45].decode())]
        blobs: list[str] = []
        while level:
            trees = _ask(proc.stdin, proc.stdout, [sha for _, sha in level])
            following = []
            for (prefix, _), (_, body) in zip(level, trees, strict=True):
                for is_tree, name, sha in _entries(body):
                    if is_tree:
                        following.append((f"{prefix}{name}/", sha))
                    elif matcher.match(prefix + name):
                        blobs.append(sha)
            level = following
        read = _ask(proc.stdin, proc.stdout, blobs) if blobs else []
        proc.stdin.close()
    return len(read), sum(len(body) for _, body in read)


def measure_floor(root: Path, workers: int = 1) -> FloorResult:
    """Read every repository's descriptors with ``workers`` repositories in flight at once."""
    repos = list_repositories(root)
    started = time.perf_counter()
    if workers <= 1:
        counts = [read_descriptors(repo) for repo in repos]
    else:
        with ThreadPoolExecutor(workers) as pool:
            counts = list(pool.map(read_descriptors, repos, chunksize=16))
    seconds = time.perf_counter() - started
    return FloorResult(
        workers=workers,
        repositories=len(repos),
        files=sum(c[0] for c in counts),
        bytes=sum(c[1] for c in counts),
        seconds=seconds,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: measure the floor of one fleet and print it as text or JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__)
    parser.add_argument("root", type=Path, help="folder whose sub-folders are git repositories")
    parser.add_argument("--workers", type=int, default=1, help="repositories in flight at once")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    result = measure_floor(args.root, args.workers)
    if args.format == "json":
        print(json.dumps({**asdict(result), "repos_per_second": result.repos_per_second}))
    else:
        print(
            f"floor: {result.repositories} repositories, {result.files} files, {result.bytes} bytes, "
            f"{result.workers} worker(s): {result.seconds:.2f} s, {result.repos_per_second:.0f} repos/s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
