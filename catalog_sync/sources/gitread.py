"""A Snapshot over a local git object store: one commit's tree, blobs and recent history.

Every kind of source ends here (local repositories are read in place, remote ones from a bare clone in
the cache), so this is where a sync pass spends its git time. It reads the object store directly
through ``gitobjects`` (no process, no work tree: committed content only) and remembers the commits
and trees it has parsed, so ``history`` and ``last_changed`` share their walks.
"""

from __future__ import annotations

import fnmatch
import heapq
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

from catalog_sync.errors import SourceError
from catalog_sync.sources.base import CommitInfo, History, PathSelection, TagInfo, TreeEntry
from catalog_sync.sources.budget import ScanBudget
from catalog_sync.sources.gitobjects import ObjectStore
from catalog_sync.sources.gitrefs import common_dir, list_tags

TREE_MODE = 0o040000
SYMLINK_MODE = 0o120000
SUBMODULE_MODE = 0o160000
_TREE_CACHE_LIMIT = 20_000
_TREE_CACHE_BYTES = 32 * 1024 * 1024
MAX_TAG_REFS = 20_000
"""Tag refs looked at, at most: a repository with a tag per build stays a bounded read."""


class _Commit(NamedTuple):
    tree: bytes
    parents: tuple[bytes, ...]
    time: int
    author: str


def _parse_commit(data: bytes) -> _Commit:
    """Only the headers the facts need: tree, parents, committer time, author e-mail."""
    end = data.find(b"\n\n")
    tree, parents, when, author = b"", [], 0, ""
    for line in (data if end < 0 else data[:end]).split(b"\n"):
        if line.startswith(b"tree "):
            tree = bytes.fromhex(line[5:45].decode("ascii"))
        elif line.startswith(b"parent "):
            parents.append(bytes.fromhex(line[7:47].decode("ascii")))
        elif line.startswith(b"author "):
            start, stop = line.find(b"<"), line.find(b">")
            person = line[start + 1 : stop] if 0 <= start < stop else line[7:].rsplit(b" ", 2)[0]
            author = person.decode("utf-8", "replace").strip().lower()
        elif line.startswith(b"committer "):
            fields = line.rsplit(b" ", 2)
            when = int(fields[1]) if len(fields) == 3 and fields[1].lstrip(b"-").isdigit() else 0
    if len(tree) != 20:
        raise SourceError("a commit without a tree")
    return _Commit(tree, tuple(parents), when, author)


def _parse_tree(data: bytes, limit: int | None = None) -> list[tuple[int, bytes, bytes]]:
    """(mode, name, sha) rows of a raw tree object; the first ``limit`` rows only, when given."""
    rows: list[tuple[int, bytes, bytes]] = []
    find, i, size = data.find, 0, len(data)
    while i < size and (limit is None or len(rows) < limit):
        space = find(b" ", i)
        nul = find(b"\0", space)
        if space < 0 or nul < 0 or nul + 21 > size:
            raise SourceError("a tree object is malformed")
        rows.append((int(data[i:space], 8), data[space + 1 : nul], data[nul + 1 : nul + 21]))
        i = nul + 21
    return rows


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


class GitSnapshot:
    """The Snapshot protocol over a bare or non-bare repository's object store; close it when done."""

    def __init__(self, git_dir: str | Path, commit: str, branch: str) -> None:
        self._refs = common_dir(git_dir)
        self._store = ObjectStore(os.path.join(self._refs, "objects"))
        self._branch = branch
        self._commits: dict[bytes, _Commit] = {}
        self._trees: dict[bytes, dict[bytes, tuple[int, bytes]]] = {}
        self._tree_bytes = 0
        try:
            self._tip = bytes.fromhex(commit)
            if len(self._tip) != 20:
                raise ValueError(commit)
            tip = self._load(self._tip)
        except ValueError:
            self._store.close()
            raise SourceError(f"{commit!r} is not a full commit id") from None
        except SourceError:
            self._store.close()
            raise
        self._commit = commit
        self._committed_at = _utc(tip.time)

    # -- the Snapshot protocol ----------------------------------------------------------------------------

    @property
    def commit(self) -> str:
        """The commit's full sha."""
        return self._commit

    @property
    def branch(self) -> str:
        """The branch the commit is the tip of."""
        return self._branch

    @property
    def committed_at(self) -> datetime:
        """The commit's committer time (UTC)."""
        return self._committed_at

    def tree(
        self, selection: PathSelection | None = None, budget: ScanBudget | None = None
    ) -> list[TreeEntry]:
        """The files ``selection`` keeps (all without one), sorted by path; sizes come from object headers.

        Folders are read depth first and ``selection.enters`` is asked as each is about to be read, so a
        selection that has seen enough below a folder can stop the walk there. With a ``budget``, each
        tree's size (and its path's length: a deep chain of folders makes long paths) is charged before
        it is inflated, and its entries as soon as they are parsed: a tree bomb stops at the budget,
        holding no more than the budget in memory.
        """
        out: list[TreeEntry] = []
        stack: list[tuple[str, bytes]] = [("", self._load(self._tip).tree)]
        size_of = self._store.size
        while stack:
            prefix, tree_sha = stack.pop()
            if prefix and selection is not None and not selection.enters(prefix):
                continue
            if budget is None:
                rows = _parse_tree(self._read(tree_sha, "tree"))
            else:
                budget.read(len(prefix))  # a deep chain of folders makes long paths
                rows = _parse_tree(
                    self._read(tree_sha, "tree", admit=budget.read), budget.max_entries - budget.entries + 1
                )
                budget.visit(len(rows))
            for mode, name, sha in rows:
                path = prefix + name.decode("utf-8", "surrogateescape")
                if mode == TREE_MODE:
                    stack.append((path + "/", sha))
                elif selection is not None and not selection.keeps(path):
                    continue
                elif mode == SUBMODULE_MODE:
                    out.append(TreeEntry(path, sha.hex(), mode, 0))
                else:
                    out.append(TreeEntry(path, sha.hex(), mode, size_of(sha)))
        out.sort(key=lambda entry: entry.path)
        return out

    def read_blob(self, sha: str) -> bytes:
        """One blob's bytes (the caller checks TreeEntry.size against its limit first)."""
        return self._read(sha, "blob")

    def history(self, since: datetime, max_commits: int = 1000, budget: ScanBudget | None = None) -> History:
        """Commits reachable from the tip in date order, newest first, back to ``since``."""
        floor = since.timestamp()
        history = History()
        for sha, commit in self._walk(budget=budget):
            if commit.time < floor:
                break  # date order: everything still to come is older too
            if len(history.commits) >= max_commits:
                history.truncated = True
                break
            history.commits.append(CommitInfo(sha.hex(), _utc(commit.time), commit.author))
        return history

    def last_changed(
        self, paths: list[str], max_commits: int = 1000, budget: ScanBudget | None = None
    ) -> dict[str, datetime]:
        """For each path, the time of the newest commit that changed it, walking at most ``max_commits``.

        A commit changes a path when the path differs from every parent (a merge that took one side's
        version did not change it). A path unchanged over the whole walk gets the oldest time walked.
        """
        pending = {path: path.encode("utf-8", "surrogateescape").split(b"/") for path in paths}
        found: dict[str, datetime] = {}
        oldest = self._load(self._tip).time
        for walked, (_, commit) in enumerate(self._walk(simplify=pending, budget=budget), start=1):
            oldest = min(oldest, commit.time)
            parents = self._parents(commit)
            for path, parts in list(pending.items()):
                mine = self._lookup(commit.tree, parts, budget)
                if parents:
                    changed = all(self._lookup(parent.tree, parts, budget) != mine for parent in parents)
                else:
                    changed = mine is not None
                if changed:
                    found[path] = _utc(commit.time)
                    del pending[path]
            if not pending or walked >= max_commits:
                break
        for path in pending:
            found[path] = _utc(oldest)
        return found

    def release_tags(self, pattern: str, max_tags: int = 1000) -> list[TagInfo]:
        """Tags matching ``pattern``, loose and packed, annotated ones peeled; unreadable ones skipped."""
        found: list[TagInfo] = []
        for name, sha in list_tags(self._refs, max_refs=MAX_TAG_REFS):
            if len(found) >= max_tags:
                break
            if not fnmatch.fnmatchcase(name, pattern):
                continue
            commit = self._peel(sha)
            if commit is not None:
                found.append(TagInfo(name, commit))
        return found

    def _peel(self, sha: str) -> str | None:
        """The commit a tag ref names, through at most a few annotated tag objects."""
        for _ in range(4):
            try:
                kind, data = self._store.read(sha)
            except (SourceError, ValueError):
                return None
            if kind == "commit":
                return sha
            if kind != "tag" or not data.startswith(b"object "):
                return None
            sha = data[7:47].decode("ascii", "replace")
        return None

    def close(self) -> None:
        """Release the object store's memory maps and the parsed caches."""
        self._store.close()
        self._commits.clear()
        self._trees.clear()
        self._tree_bytes = 0

    def __enter__(self) -> GitSnapshot:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # -- reading and walking --------------------------------------------------------------------------

    def _read(self, sha: str | bytes, expected: str, admit: Callable[[int], object] | None = None) -> bytes:
        kind, data = self._store.read(sha, admit)
        if kind != expected:
            name = sha.hex() if isinstance(sha, bytes) else sha
            raise SourceError(f"object {name} is a {kind}, not a {expected}")
        return data

    def _load(self, sha: bytes) -> _Commit:
        commit = self._commits.get(sha)
        if commit is None:
            commit = _parse_commit(self._read(sha, "commit"))
            self._commits[sha] = commit
        return commit

    def _parents(self, commit: _Commit) -> list[_Commit]:
        """The parents present in the store: a shallow clone's boundary simply ends the history."""
        out: list[_Commit] = []
        for sha in commit.parents:
            if sha in self._commits or self._store.contains(sha):
                out.append(self._load(sha))
        return out

    def _walk(
        self, simplify: dict[str, list[bytes]] | None = None, budget: ScanBudget | None = None
    ) -> _Walk:
        return _Walk(self, simplify, budget)

    def _lookup(
        self, tree: bytes, parts: list[bytes], budget: ScanBudget | None = None
    ) -> tuple[int, bytes] | None:
        """(mode, sha) of the path under ``tree``, or None; parsed trees are cached by sha."""
        entry: tuple[int, bytes] | None = (TREE_MODE, tree)
        for part in parts:
            if entry is None or entry[0] != TREE_MODE:
                return None
            entry = self._tree_map(entry[1], budget).get(part)
        return entry

    def _tree_map(self, sha: bytes, budget: ScanBudget | None) -> dict[bytes, tuple[int, bytes]]:
        """One tree as a dict; with a ``budget``, a tree larger than all of it is refused unread (history
        walks are bounded by commits and seconds, this bounds the memory of each step)."""
        rows = self._trees.get(sha)
        if rows is None:
            size = self._store.size(sha) if budget is not None else 0
            if budget is not None:
                budget.admit(size)
            if len(self._trees) > _TREE_CACHE_LIMIT or self._tree_bytes > _TREE_CACHE_BYTES:
                self._trees.clear()
                self._tree_bytes = 0
            data = self._read(sha, "tree")
            rows = {name: (mode, child) for mode, name, child in _parse_tree(data)}
            self._trees[sha] = rows
            self._tree_bytes += len(data)
        return rows


class _Walk:
    """Commits from the tip, newest committer time first, each once.

    With ``simplify`` (path -> parts), a merge that holds the same version of every one of those paths
    as one of its parents is followed through that parent only, as ``git log -- paths`` does, so a
    change that the merge discarded is not taken for the path's last change.
    """

    def __init__(
        self, snapshot: GitSnapshot, simplify: dict[str, list[bytes]] | None, budget: ScanBudget | None
    ) -> None:
        self._snapshot = snapshot
        self._simplify = simplify
        self._budget = budget
        tip = snapshot._tip
        self._heap: list[tuple[int, int, bytes]] = [(-snapshot._load(tip).time, 0, tip)]
        self._seen = {tip}
        self._counter = 1

    def __iter__(self) -> _Walk:
        return self

    def __next__(self) -> tuple[bytes, _Commit]:
        if not self._heap:
            raise StopIteration
        if self._budget is not None:
            self._budget.check_time()
        _, _, sha = heapq.heappop(self._heap)
        snapshot = self._snapshot
        commit = snapshot._load(sha)
        follow = [p for p in commit.parents if p in snapshot._commits or snapshot._store.contains(p)]
        if self._simplify and len(follow) > 1:
            for parent in follow:
                tree = snapshot._load(parent).tree
                if all(
                    snapshot._lookup(tree, parts, self._budget)
                    == snapshot._lookup(commit.tree, parts, self._budget)
                    for parts in self._simplify.values()
                ):
                    follow = [parent]
                    break
        for parent in follow:
            if parent not in self._seen:
                self._seen.add(parent)
                heapq.heappush(self._heap, (-snapshot._load(parent).time, self._counter, parent))
                self._counter += 1
        return sha, commit


__all__ = ["SUBMODULE_MODE", "SYMLINK_MODE", "TREE_MODE", "GitSnapshot"]
