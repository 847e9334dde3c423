"""The local source: repositories on disk, read in place at their branch tip."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog_sync.config import SourceSettings
from catalog_sync.errors import RepositoryUnreachableError, SourceError
from catalog_sync.sources.base import Repository
from catalog_sync.sources.local import LocalSource
from tests.fixtures.gitrepos import GitRepo


def _source(path: Path | str, branch: str | None = None, base_dir: str = "/") -> LocalSource:
    return LocalSource(SourceSettings(name="disk", type="local", path=str(path), branch=branch), base_dir)


def _content(repository: Repository, path: str) -> bytes:
    snapshot = repository.snapshot(repository.tip())
    try:
        entry = next(e for e in snapshot.tree() if e.path == path)
        return snapshot.read_blob(entry.sha)
    finally:
        snapshot.close()


def test_a_single_repository_is_one_repository_keyed_dot(git_repo: GitRepo) -> None:
    sha = git_repo.commit("x", files={"catalog-info.yaml": "a\n"})
    [repository] = _source(git_repo.path).discover()
    assert repository.info.key == "."
    assert repository.info.name == "repo"
    assert repository.info.url == "file://" + str(git_repo.path.resolve())
    assert repository.info.branch == "main"
    assert repository.tip() == sha


def test_a_folder_of_repositories_lists_only_git_subfolders(
    make_git_repo: Callable[..., GitRepo], tmp_path: Path
) -> None:
    make_git_repo("repos/payments", files={"a": "1"})
    make_git_repo("repos/search.git", bare=True)
    (tmp_path / "repos" / "notes").mkdir()
    (tmp_path / "repos" / "notes" / "readme.txt").write_text("not a repository")
    (tmp_path / "repos" / "loose-file.txt").write_text("neither")
    listed = _source(tmp_path / "repos").discover()
    assert [(r.info.key, r.info.name) for r in listed] == [("payments", "payments"), ("search.git", "search")]


def test_relative_paths_are_taken_from_the_base_dir(
    make_git_repo: Callable[..., GitRepo], tmp_path: Path
) -> None:
    make_git_repo("repos/payments", files={"a": "1"})
    [repository] = _source("repos", base_dir=str(tmp_path)).discover()
    assert repository.info.key == "payments"


def test_uncommitted_and_untracked_edits_are_never_read(git_repo: GitRepo) -> None:
    git_repo.commit("x", files={"catalog-info.yaml": "committed\n"})
    git_repo.write("catalog-info.yaml", "edited\n")
    git_repo.git("add", "catalog-info.yaml")  # even staged edits are not committed content
    [repository] = _source(git_repo.path).discover()
    assert _content(repository, "catalog-info.yaml") == b"committed\n"


def test_the_configured_branch_wins_over_the_checked_out_one(git_repo: GitRepo) -> None:
    git_repo.commit("main", files={"catalog-info.yaml": "main\n"})
    git_repo.branch("release")
    release = git_repo.commit("release", files={"catalog-info.yaml": "release\n"})
    git_repo.checkout("main")
    [default] = _source(git_repo.path).discover()
    [configured] = _source(git_repo.path, branch="release").discover()
    assert _content(default, "catalog-info.yaml") == b"main\n"
    assert configured.info.branch == "release"
    assert configured.tip() == release
    assert _content(configured, "catalog-info.yaml") == b"release\n"


def test_packed_refs_are_read(git_repo: GitRepo) -> None:
    sha = git_repo.commit("x", files={"a": "1"})
    git_repo.git("pack-refs", "--all", "--prune")
    assert not (git_repo.git_dir / "refs" / "heads" / "main").exists()
    [repository] = _source(git_repo.path).discover()
    assert repository.tip() == sha


def test_a_detached_head_is_read_at_its_commit(git_repo: GitRepo) -> None:
    first = git_repo.commit("one", files={"a": "1"})
    git_repo.commit("two", files={"a": "2"})
    git_repo.checkout(first)
    [repository] = _source(git_repo.path).discover()
    assert repository.tip() == first


def test_tip_follows_new_commits_without_rediscovery(git_repo: GitRepo) -> None:
    git_repo.commit("one", files={"a": "1"})
    [repository] = _source(git_repo.path).discover()
    newer = git_repo.commit("two", files={"a": "2"})
    assert repository.tip() == newer


def test_a_missing_branch_is_unreachable_with_a_clear_message(git_repo: GitRepo) -> None:
    git_repo.commit("x", files={"a": "1"})
    [repository] = _source(git_repo.path, branch="nope").discover()
    with pytest.raises(RepositoryUnreachableError, match="branch 'nope' does not exist"):
        repository.tip()


def test_an_empty_repository_has_no_tip(git_repo: GitRepo) -> None:
    [repository] = _source(git_repo.path).discover()
    with pytest.raises(RepositoryUnreachableError, match="has no commits"):
        repository.tip()


def test_a_vanished_repository_is_unreachable(git_repo: GitRepo) -> None:
    sha = git_repo.commit("x", files={"a": "1"})
    [repository] = _source(git_repo.path).discover()
    git_repo.path.rename(git_repo.path.with_name("gone"))
    with pytest.raises(RepositoryUnreachableError, match="no longer exists"):
        repository.tip()
    with pytest.raises(RepositoryUnreachableError):
        repository.snapshot(sha)


def test_an_unknown_commit_is_unreachable(git_repo: GitRepo) -> None:
    git_repo.commit("x", files={"a": "1"})
    [repository] = _source(git_repo.path).discover()
    with pytest.raises(RepositoryUnreachableError, match="missing"):
        repository.snapshot("1" * 40)


def test_a_missing_source_folder_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        _source(tmp_path / "nowhere").discover()


def test_a_folder_without_repositories_lists_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert _source(tmp_path / "empty").discover() == []


def test_a_linked_work_tree_reads_its_own_branch(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.commit("main", files={"catalog-info.yaml": "main\n"})
    git_repo.git("worktree", "add", "--quiet", "-b", "feature", str(tmp_path / "feature-tree"))
    (tmp_path / "feature-tree" / "catalog-info.yaml").write_text("feature\n")
    git_repo.git("-C", str(tmp_path / "feature-tree"), "commit", "--quiet", "-am", "feature")
    [repository] = _source(tmp_path / "feature-tree").discover()
    assert repository.info.branch == "feature"
    assert _content(repository, "catalog-info.yaml") == b"feature\n"


def test_repositories_survive_pickling_for_worker_processes(git_repo: GitRepo) -> None:
    git_repo.commit("x", files={"catalog-info.yaml": "a\n"})
    [repository] = _source(git_repo.path).discover()
    copy = pickle.loads(pickle.dumps(repository))
    assert copy.info == repository.info
    assert _content(copy, "catalog-info.yaml") == b"a\n"
