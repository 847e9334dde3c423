"""Turns folders of files into real git repositories: how ``catalog-sync demo`` builds its organisation.

The demo must read git exactly as production does, so each example folder becomes a repository with a
commit; running the demo again commits whatever changed in the folders, so an edited example shows up
as a new commit, as it would in a team's repository.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from git import Actor, Repo

DEMO_AUTHOR = Actor("catalog-sync demo", "demo@catalog-sync.invalid")


def build_example_repositories(examples: Path, destination: Path) -> list[Path]:
    """Make (or bring up to date) one repository under ``destination`` per sub-folder of ``examples``."""
    destination.mkdir(parents=True, exist_ok=True)
    built = []
    for folder in sorted(p for p in examples.iterdir() if p.is_dir()):
        target = destination / folder.name
        _mirror(folder, target)
        _commit_all(target)
        built.append(target)
    return built


def _mirror(source: Path, target: Path) -> None:
    """Make ``target``'s work tree hold exactly ``source``'s files (its ``.git`` is kept)."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in target.iterdir():
        if entry.name == ".git":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for entry in source.iterdir():
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, target / entry.name, follow_symlinks=False)


def _commit_all(path: Path) -> None:
    """Commit the work tree when it differs from the last commit (or there is none yet), and tag the
    commit as a release (``v1.N``), so the examples' ``git`` KPIs have releases to count: each run of
    the demo that changes an example releases it."""
    repo = Repo(path) if (path / ".git").exists() else Repo.init(path, initial_branch="main")
    with repo:
        repo.git.add("--all")
        if repo.head.is_valid() and not repo.index.diff("HEAD"):
            return
        message = "Update example" if repo.head.is_valid() else "Add example repository"
        repo.index.commit(message, author=DEMO_AUTHOR, committer=DEMO_AUTHOR)
        repo.create_tag(f"v1.{len(repo.tags)}")
