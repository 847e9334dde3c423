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

A repository renamed or transferred on the host keeps its id but gets a new clone URL, so its next
clone is made beside the old one, in a folder named by the new URL (``urls.clone_folder_name``). Each
complete listing therefore also removes, in the folder of every repository it lists, the clones other
than the one its current URL names (``remove_stale_clones``), by the same rules: nothing written within
``GRACE_SECONDS``, no lock held. That costs one listing of each such folder per pass (a few entries
each), skipped while the folder is unchanged since it was last found holding its current clone alone
and more than ``GRACE_SECONDS`` old (``benchmarks/clone_prune_bench.py``).

A folder is renamed out of the way (``<id>.tmp-<pid>``, ``<digest>.tmp-<pid>``) before it is removed, so
a removal cut short leaves no half clone under the repository's name, and the rest goes at a later
pass. Only folders named by a repository id or as a clone, and real folders, are removed: a symbolic
link, or a name written otherwise, is left alone, and ``shutil.rmtree`` (on a platform where it does
not follow links) removes the links inside a clone, never what they point at.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Mapping
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
from catalog_sync.sources.urls import clone_folder_name

WRITTEN_BY_A_READ = ("HEAD", "shallow", "FETCH_HEAD", HISTORY_FILE, "objects/pack", "refs/heads")
"""What a fetch or a history read rewrites in a clone (files, or folders whose entries it writes)."""
_CLONE = re.compile(r"^[0-9a-f]{16}$")
"""A clone's folder name inside its repository's folder (``urls.clone_folder_name``)."""


class ClonePruner:
    """Removes from ``folder`` the clone folders (``<repository id>/``) of repositories no longer
    listed, and the clones of listed ones that their current URL no longer names; its counts live
    beside them (``missed.json``)."""

    def __init__(self, folder: Path, listings: int, grace: float = GRACE_SECONDS) -> None:
        self._folder = folder
        self._missed = MissedListings(folder / MISSED_FILE, listings)
        self._grace = grace
        self._settled: dict[int, tuple[int, str]] = {}
        """Repository id -> (its folder's mtime in ns, its clone URL) when last found holding that URL's
        clone alone, and unchanged for ``grace``: not listed again while both stay so."""

    def prune(self, listed: Mapping[int, str], now: float) -> int:
        """After a complete listing of the repositories ``listed`` (those the source reads, each with
        the URL its clone is read from): remove the clone folders of repositories missing long enough,
        and the clones of listed ones made under another URL, when not in use; answer how many folders
        went. Leftovers of a removal cut short go on the way."""
        before = now - self._grace
        on_disk: dict[int, os.DirEntry[str]] = {}
        for entry in entries(self._folder):
            if not entry.is_dir(follow_symlinks=False):
                continue
            number = repository_id(entry.name)
            if number is not None:
                on_disk[number] = entry
            elif _is_leftover(entry.name) and not _used_since(Path(entry.path), before):
                shutil.rmtree(entry.path, ignore_errors=True)
        folders = {number: Path(entry.path) for number, entry in on_disk.items()}
        removed = self._missed.prune(folders, listed.keys(), lambda clones: remove_clones(clones, before))
        for number, entry in on_disk.items():
            if number in listed:
                removed += self._prune_renamed(number, entry, listed[number], before)
        self._settled = {number: held for number, held in self._settled.items() if number in on_disk}
        return removed

    def _prune_renamed(self, number: int, folder: os.DirEntry[str], url: str, before: float) -> int:
        """Remove the clones in a listed repository's ``folder`` other than the one of ``url``, unless
        the folder is settled (unchanged since it held that one alone); answer how many went."""
        try:
            mtime = folder.stat(follow_symlinks=False).st_mtime_ns
        except OSError:
            return 0
        if self._settled.get(number) == (mtime, url):
            return 0
        removed, left = remove_stale_clones(Path(folder.path), clone_folder_name(url), before)
        if left:
            self._settled.pop(number, None)
        elif mtime < before * 1e9:
            # Settled only once older than the grace: a change made since then moves the mtime on.
            self._settled[number] = (mtime, url)
        return removed


def remove_stale_clones(folder: Path, current: str, before: float) -> tuple[int, bool]:
    """Remove from one repository's ``folder`` the clones other than ``current`` (made under a URL
    the repository has since left: a rename or a transfer) and the leftovers of their removal, each
    unless written since ``before`` or locked; answer how many went, and whether any other is left."""
    removed, left = 0, False
    for entry in entries(folder):
        name = entry.name
        if name == current or not entry.is_dir(follow_symlinks=False):
            continue
        clone = Path(entry.path)
        if _CLONE.match(name):
            gone = _remove_clone(clone, before)
        elif _is_leftover(name, _CLONE):
            gone = not _used_since(clone, before) and _removed(clone)
        else:
            continue
        removed += int(gone)
        left = left or not gone
    return removed, left


def remove_clones(folder: Path, before: float) -> bool:
    """Remove one repository's clone folder unless it was written since ``before`` or a fetch holds a
    clone's lock; whether it went. The locks are held until it has gone, so no fetch starts in it."""
    if _used_since(folder, before):
        return False
    return _move_away(folder, list(folder.glob("*.lock")))


def _remove_clone(clone: Path, before: float) -> bool:
    """Remove one clone and its lock unless it was written since ``before`` or a fetch holds the
    lock; whether it went. The lock (made if missing) is held until the clone is renamed away and is
    unlinked while held, so no fetch starts in the clone meanwhile."""
    if _used_since(clone, before, whole=False):
        return False
    return _move_away(clone, [clone.with_name(f"{clone.name}.lock")], unlink_locks=True)


def _move_away(folder: Path, locks: Iterable[Path], *, unlink_locks: bool = False) -> bool:
    """Hold every lock, rename ``folder`` out of the way (``TEMPORARY``), then remove it; whether it
    went (not when a lock is held elsewhere, or the folder was moved by another worker)."""
    if not shutil.rmtree.avoids_symlink_attacks:
        return False
    with contextlib.ExitStack() as held:
        for lock in locks:
            if not held.enter_context(_locked(lock)):
                return False
        away = folder.with_name(f"{folder.name}{TEMPORARY}{os.getpid()}")
        try:
            folder.rename(away)
        except OSError:
            return False  # removed by another worker, or not ours to move
        if unlink_locks:
            for lock in locks:
                with contextlib.suppress(OSError):
                    lock.unlink()
    return _removed(away)


def _removed(folder: Path) -> bool:
    """Remove ``folder`` (its links, never what they point at); True, as what is left goes later."""
    shutil.rmtree(folder, ignore_errors=True)
    return True


def _used_since(folder: Path, before: float, *, whole: bool = True) -> bool:
    """Whether anything in ``folder`` a read writes was modified since ``before``: the folder, its
    entries, and ``WRITTEN_BY_A_READ`` in each clone (each entry when ``whole``: a repository's folder;
    else the folder itself: one clone); a few stats, not a walk of the clone."""
    paths = [folder]
    clones = []
    for entry in entries(folder):
        paths.append(Path(entry.path))
        if whole and entry.is_dir(follow_symlinks=False):
            clones.append(Path(entry.path))
    for clone in clones if whole else [folder]:
        paths += [clone / name for name in WRITTEN_BY_A_READ]
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
    """Hold ``lock`` (a clone's fetch lock, made if missing, as a fetch makes it) if no one holds it;
    yields whether it is held. A lock that is a symbolic link, or cannot be opened, is not held."""
    try:
        descriptor = os.open(lock, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
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


def _is_leftover(name: str, named: re.Pattern[str] | None = None) -> bool:
    """A folder renamed for removal (``<id>.tmp-<pid>``, or ``<digest>.tmp-<pid>`` when ``named``
    is a clone's name) whose removal was cut short."""
    stem, _, pid = name.partition(TEMPORARY)
    ours = repository_id(stem) is not None if named is None else named.match(stem) is not None
    return ours and pid.isascii() and pid.isdigit()


__all__ = ["WRITTEN_BY_A_READ", "ClonePruner", "remove_clones", "remove_stale_clones"]
