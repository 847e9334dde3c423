"""Repositories on this machine's disk: the demo's, a developer's checkout, a mirror kept by other means.

``path`` names one git repository (bare or with a work tree) or a folder whose immediate sub-folders
are git repositories. They are read in place, at the tip of the branch, from the object store only:
uncommitted edits in a work tree are never read, exactly as for a remote repository.
"""

from __future__ import annotations

import os
from pathlib import Path

from catalog_sync.config import SourceSettings
from catalog_sync.errors import RepositoryUnreachableError, SourceError
from catalog_sync.sources.base import Repository, RepositoryInfo
from catalog_sync.sources.gitread import GitSnapshot
from catalog_sync.sources.gitrefs import find_git_dir, read_head, resolve_ref


class LocalRepository:
    """One git repository on disk; ``tip`` reads refs from files, so it costs no process."""

    tip_is_cheap = True
    """``tip`` reads two small files: not worth a thread (see ``Repository`` in ``base``)."""

    def __init__(
        self, folder: Path, key: str, branch: str | None, git_dir: Path | None = None, head: str | None = None
    ) -> None:
        self._folder = folder
        self._configured_branch = branch
        self._known_git_dir = git_dir
        self._head: str | None = head
        # A git dir found by probing is a bare repository or a main work tree's .git: its own common dir.
        self._shared: str | None = str(git_dir) if head is not None and git_dir is not None else None
        name = folder.name[:-4] if folder.name.endswith(".git") and len(folder.name) > 4 else folder.name
        self._info = RepositoryInfo(
            key=key, name=name, url="file://" + str(folder), branch=branch or self._head_branch(head)
        )

    @property
    def info(self) -> RepositoryInfo:
        """Identity and display data; ``branch`` is the configured one or the repository's HEAD branch."""
        return self._info

    def _git_dir(self) -> Path:
        """The git directory found at discovery, checked again only when reading it failed."""
        if self._known_git_dir is None:
            self._known_git_dir = self._find_git_dir()
        return self._known_git_dir

    def _find_git_dir(self) -> Path:
        git_dir = find_git_dir(self._folder)
        if git_dir is None:
            if not self._folder.exists():
                raise RepositoryUnreachableError(f"{self._folder}: the folder no longer exists")
            raise RepositoryUnreachableError(f"{self._folder}: not a git repository")
        return git_dir

    def _head_branch(self, known: str | None) -> str | None:
        if known is None:
            try:
                self._head = read_head(self._git_dir())
            except SourceError:
                return None
        head = self._head or ""
        return head[len("refs/heads/") :] if head.startswith("refs/heads/") else None

    def tip(self) -> str:
        """The branch's commit, read from the ref files (loose or packed-refs)."""
        try:
            return self._read_tip(self._git_dir())
        except SourceError:
            self._known_git_dir = None  # moved or replaced since discovery: look again, once
            return self._read_tip(self._git_dir())

    def _read_tip(self, git_dir: Path) -> str:
        shared = self._shared if self._shared == str(git_dir) else None
        if self._configured_branch:
            ref = "refs/heads/" + self._configured_branch
        else:
            # HEAD was read at discovery (every pass discovers); read again only if it leads nowhere.
            cached = self._head
            ref = cached or read_head(git_dir)
            if not ref.startswith("refs/"):
                return ref  # a detached HEAD: the commit it names is the tip
            commit = resolve_ref(git_dir, ref, shared=shared)
            if commit is None and cached is not None:
                self._head = None
                ref = read_head(git_dir)
                if not ref.startswith("refs/"):
                    return ref
            if commit is not None:
                return commit
        commit = resolve_ref(git_dir, ref, shared=shared)
        if commit is None:
            branch = ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else ref
            raise RepositoryUnreachableError(
                f"{self._folder}: branch {branch!r} does not exist (or has no commits)"
            )
        return commit

    def snapshot(self, commit: str) -> GitSnapshot:
        """Open ``commit`` from the repository's own object store, in place."""
        branch = self._info.branch or "HEAD"
        try:
            return GitSnapshot(self._git_dir(), commit, branch)
        except RepositoryUnreachableError:
            raise
        except SourceError as exc:
            self._known_git_dir = None
            self._find_git_dir()  # a vanished repository says so, rather than "object missing"
            raise RepositoryUnreachableError(f"{self._folder}: {exc}") from exc


class LocalSource:
    """The ``local`` source type: one repository, or a folder of repositories, on disk."""

    def __init__(self, settings: SourceSettings, base_dir: str) -> None:
        if not settings.path:
            raise SourceError(f"source {settings.name!r}: a local source needs 'path'")
        self._settings = settings
        root = Path(settings.path).expanduser()
        self._root = (root if root.is_absolute() else Path(base_dir) / root).resolve()

    @property
    def name(self) -> str:
        """The source's configured name."""
        return self._settings.name

    @property
    def root(self) -> Path:
        """The absolute folder this source reads."""
        return self._root

    def discover(self) -> list[Repository]:
        """The repository at ``path``, or every git repository directly under it, sorted by key."""
        if not self._root.is_dir():
            raise SourceError(f"source {self.name!r}: {self._root} does not exist or is not a folder")
        branch = self._settings.branch
        git_dir = find_git_dir(self._root)
        if git_dir is not None:
            return [LocalRepository(self._root, ".", branch, git_dir)]
        try:
            children = sorted(os.scandir(self._root), key=lambda entry: entry.name)
        except OSError as exc:
            raise SourceError(f"source {self.name!r}: cannot list {self._root}: {exc.strerror}") from exc
        found: list[Repository] = []
        for child in children:
            probed = _probe(child.path) if child.is_dir() else None
            if probed is not None:
                git_dir, head = probed
                found.append(LocalRepository(Path(child.path), child.name, branch, git_dir, head))
        return found


def _probe(folder: str) -> tuple[Path, str | None] | None:
    """The git directory of ``folder`` and what its HEAD names, reading HEAD as the test of being one.

    Discovery runs on every pass over every folder of a source, so the usual cases cost two or three
    system calls (open ``.git/HEAD``, or open ``HEAD`` and check ``objects/``); the rest (a ``.git``
    file of a linked work tree, anything odd) is left to ``find_git_dir``.
    """
    bare_first = folder.endswith(".git")  # the usual name of a bare repository: try it first
    candidates = (
        (folder, os.path.join(folder, ".git")) if bare_first else (os.path.join(folder, ".git"), folder)
    )
    for git_dir in candidates:
        try:
            with open(os.path.join(git_dir, "HEAD"), encoding="utf-8") as handle:
                text = handle.read(4096).strip()
        except OSError:
            continue
        if git_dir == folder and not os.path.isdir(os.path.join(folder, "objects")):
            return None
        return Path(git_dir), (text[4:].strip() if text.startswith("ref:") else text) or None
    found = find_git_dir(folder)
    return (found, None) if found is not None else None


__all__ = ["LocalRepository", "LocalSource"]
