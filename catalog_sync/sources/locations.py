"""The descriptor files of a commit in the order a scan reads them: those ``descriptors.patterns``
match, then, round by round, the files their Location entities name.

The scanner reads them to parse and report on them. Two readers need the same files before any scan,
where no problem is reported: the github API read, which fetches their blobs into the cache
(``githubapi``), and the hosted-history check, which searches them for a ``git`` KPI
(``hostedhistory``). Both walk them here, so neither misses a Product declared in a file only a
Location names. Targets resolve as the scan resolves them (``resolve_location_target``): a URL, an
absolute path or a path leaving the repository names nothing. Each file is read at most once and
rounds are bounded (``MAX_ROUNDS``), so a chain of Locations that loops ends; only a file that mentions
a Location is parsed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from catalog_sync.descriptors import location_targets, parse_file, resolve_location_target
from catalog_sync.descriptors.loader import LoadLimits
from catalog_sync.descriptors.patterns import compile_patterns
from catalog_sync.errors import DescriptorError
from catalog_sync.sources.base import TreeEntry

MAX_ROUNDS = 20
"""Rounds of Locations followed at most after the files the patterns match."""
_REGULAR = 0o100000
_FILE_TYPE = 0o170000
_GLOB = re.compile(r"[*?\[]")

ReadEntry = Callable[[TreeEntry], bytes | None]
"""A file's bytes, or None when it is not read (a fetch refused, a byte budget spent)."""
ListPaths = Callable[[set[str], set[str]], Iterable[TreeEntry]]
"""The entries of the commit at these paths and matching these globs (others may come too)."""


def readable(entry: TreeEntry, max_file_bytes: int) -> bool:
    """Whether a scan reads ``entry``: a regular file within ``descriptors.max_file_bytes`` (it refuses
    a symbolic link, a submodule or a larger file from the tree entry, unread)."""
    return entry.mode & _FILE_TYPE == _REGULAR and entry.size <= max_file_bytes


def descriptor_files(
    first: Sequence[TreeEntry], read: ReadEntry, listed: ListPaths, max_file_bytes: int
) -> Iterator[tuple[TreeEntry, bytes | None]]:
    """Each readable descriptor file with its bytes as ``read`` answers them, in the scan's order:
    ``first`` (the pattern matches, in path order), then the files their Locations name, round by
    round. Lazy: a caller that stops early reads and lists nothing more."""
    limits = LoadLimits(max_file_bytes=max_file_bytes)
    known = {entry.path: entry for entry in first}
    seen = set(known)
    asked: set[str] = set()
    batch = list(first)
    for round_number in range(MAX_ROUNDS + 1):
        targets: list[str] = []
        for entry in batch:
            if not readable(entry, max_file_bytes):
                continue
            data = read(entry)
            yield entry, data
            if data is not None:
                targets.extend(_targets(entry.path, data, limits))
        if not targets or round_number == MAX_ROUNDS:
            return
        _list(targets, known, asked, listed)
        batch = []
        for path in _named(targets, known):
            if path not in seen:
                seen.add(path)
                batch.append(known[path])


def in_listing(by_path: dict[str, TreeEntry]) -> ListPaths:
    """``ListPaths`` over a whole listing held in memory (a tree read through an API)."""

    def listed(files: set[str], globs: set[str]) -> list[TreeEntry]:
        found = [by_path[path] for path in files if path in by_path]
        if globs:
            pattern = compile_patterns(tuple(sorted(globs)))
            found.extend(entry for path, entry in by_path.items() if pattern.match(path))
        return found

    return listed


def _targets(origin: str, data: bytes, limits: LoadLimits) -> list[str]:
    """The resolved targets (paths or globs) of the Locations in the file ``origin``, in order."""
    if b"location" not in data.lower():
        return []
    try:
        parsed = parse_file(origin, data, limits)
    except DescriptorError:
        return []
    out: list[str] = []
    for document in parsed.documents:
        entity = document.entity
        if entity is not None and entity.kind.lower() == "location":
            for target in location_targets(entity):
                resolved = resolve_location_target(origin, target)
                if resolved is not None:
                    out.append(resolved)
    return out


def _list(targets: list[str], known: dict[str, TreeEntry], asked: set[str], listed: ListPaths) -> None:
    """Add to ``known`` the entries ``targets`` may name, in one listing of what was not asked yet."""
    files = {t for t in targets if not _GLOB.search(t) and t not in known} - asked
    globs = {t for t in targets if _GLOB.search(t)} - asked
    if not files and not globs:
        return
    asked.update(files, globs)
    for entry in listed(files, globs):
        known.setdefault(entry.path, entry)


def _named(targets: list[str], known: dict[str, TreeEntry]) -> Iterator[str]:
    """The known paths each target names, in order (a glob's matches in path order)."""
    for target in targets:
        if _GLOB.search(target):
            glob = compile_patterns((target,))
            yield from sorted(path for path in known if glob.match(path))
        elif target in known:
            yield target


__all__ = ["MAX_ROUNDS", "ListPaths", "ReadEntry", "descriptor_files", "in_listing", "readable"]
