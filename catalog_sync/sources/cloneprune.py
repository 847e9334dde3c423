"""Pruning the shallow clones of a github or gitlab source, so that a deleted repository's goes too.

A hosted repository may get a shallow clone in the source's cache: a github one when its tree is
truncated or too large for the API, when the rate limit is nearly spent, or for the history of its
``git`` KPIs (``<cache>/github/<source>/git/<id>/<digest>/``); a gitlab one always
(``<cache>/gitlab/<source>-<digest>/repositories/<id>/<digest>/``). A clone can be large (a monorepo's
tip, or the commits of a year), and nothing else removes it. ``ClonePruner`` removes a repository's
folder (``<id>/``: its clones, their locks, the history record ``hostedhistory`` keeps in each) by the
rule of the API cache's tree records (``cacheprune``): at the second complete listing in a row that
does not list it among those the source reads, counted in ``missed.json`` in the clones' folder.

The folder is kept, and counted as due at the next listing, while another worker sharing the cache may
be using it: when a clone's lock is held (a fetch runs; ``GitRepository`` takes it for every fetch), or
anything written within ``GRACE_SECONDS`` (the folder, each clone, and the files a fetch or a history
read rewrites: ``shallow``, ``FETCH_HEAD``, ``HEAD``, ``catalog-history.json``, the pack and branch
folders). A handful of stats per repository due, none per repository listed: a pass lists the clones'
folder once (``benchmarks/clone_prune_bench.py``).

A folder is renamed out of the way (``<id>.tmp-<pid>``) before it is removed, so a removal cut short
leaves no half clone under the repository's name, and the rest goes at a later pass. Only folders
named by a repository id, and real folders, are removed: a symbolic link, or a name written otherwise,
is left alone, and ``shutil.rmtree`` (on a platform where it does not follow links) removes the links
inside a clone, never what they point at.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from catalog_sync.sources.cacheprune import (
    GRACE_SECONDS,
    MISSED_FILE,
    TEMPORARY,
    MissedListings,
    entries,
    repository_id,
)
from catalog_sync.sources.hostedhistory import HISTORY_FILE

WRITTEN_BY_A_READ = ("HEAD", "shallow", "FETCH_HEAD", HISTORY_FILE, "objects/pack", "refs/heads")
"""What a fetch or a history read rewrites in a clone (files, or folders whose entries it writes)."""


class ClonePruner:
    """Removes from ``folder`` the clone folders (``<repository id>/``) of repositories no longer
    listed; its counts live beside them (``missed.json``)."""

    def __init__(self, folder: Path, listings: int, grace: float = GRACE_SECONDS) -> None:
        self._folder = folder
        self._missed = MissedListings(folder / MISSED_FILE, listings)
        self._grace = grace

    def prune(self, listed: set[int], now: float) -> int:
        """After a complete listing of the repositories ``listed`` (those the source reads): remove the
        clone folders of repositories missing long enough and not in use; answer how many went.
        Leftovers of a removal cut short go on the way."""
        before = now - self._grace
        on_disk: dict[int, Path] = {}
        for entry in entries(self._folder):
            if not entry.is_dir(follow_symlinks=False):
                continue
            number = repository_id(entry.name)
            if number is not None:
                on_disk[number] = Path(entry.path)
            elif _is_leftover(entry.name) and not _used_since(Path(entry.path), before):
                shutil.rmtree(entry.path, ignore_errors=True)
        return self._missed.prune(on_disk, listed, lambda clones: remove_clones(clones, before))


def remove_clones(folder: Path, before: float) -> bool:
    """Remove one repository's clone folder unless it was written since ``before`` or a fetch holds a
    clone's lock; whether it went. The locks are held until it has gone, so no fetch starts in it."""
    if not shutil.rmtree.avoids_symlink_attacks or _used_since(folder, before):
        return False
    with contextlib.ExitStack() as held:
        for lock in folder.glob("*.lock"):
            if not held.enter_context(_locked(lock)):
                return False
        away = folder.with_name(f"{folder.name}{TEMPORARY}{os.getpid()}")
        try:
            folder.rename(away)
        except OSError:
            return False  # removed by another worker, or not ours to move
    shutil.rmtree(away, ignore_errors=True)
    return True


def _used_since(folder: Path, before: float) -> bool:
    """Whether anything in ``folder`` a read writes was modified since ``before`` (the folder, its
    entries, and ``WRITTEN_BY_A_READ`` in each clone); a few stats, not a walk of the clone."""
    paths = [folder]
    for entry in entries(folder):
        paths.append(Path(entry.path))
        if entry.is_dir(follow_symlinks=False):
            paths += [Path(entry.path, name) for name in WRITTEN_BY_A_READ]
    for path in paths:
        try:
            if os.lstat(path).st_mtime >= before:
                return True
        except FileNotFoundError:
            continue
        except OSError:
            return True  # unreadable: not proven unused
    return False


@contextlib.contextmanager
def _locked(lock: Path) -> Iterator[bool]:
    """Hold ``lock`` (a clone's fetch lock) if no one holds it; yields whether it is held. A lock that
    is a symbolic link, or cannot be opened, is not held."""
    try:
        descriptor = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)


def _is_leftover(name: str) -> bool:
    """A folder renamed for removal (``<id>.tmp-<pid>``) whose removal was cut short."""
    number, _, pid = name.partition(TEMPORARY)
    return repository_id(number) is not None and pid.isascii() and pid.isdigit()


__all__ = ["WRITTEN_BY_A_READ", "ClonePruner", "remove_clones"]
