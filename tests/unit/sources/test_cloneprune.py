"""A hosted source's shallow clones are pruned: a repository missing from two complete listings loses
its clone folder, unless a read wrote in it within the hour or a fetch holds its lock; nothing outside
the cache is reached through a symbolic link, and a folder not named by a repository id is left alone."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from catalog_sync.sources.cloneprune import ClonePruner
from catalog_sync.sources.git import GitRepository
from catalog_sync.sources.hostedhistory import HISTORY_FILE
from tests.fixtures.gitrepos import GitRemote

NOW = time.time()
HOUR = 3600.0
DAY = 24 * HOUR


def age(folder: Path, seconds: float = DAY) -> None:
    """Move ``folder`` and everything in it ``seconds`` back, as a clone left alone that long."""
    then = NOW - seconds
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (then, then), follow_symlinks=False)


def clone(clones: Path, repository_id: int, remote: GitRemote) -> Path:
    """A real shallow clone of ``remote`` where a source keeps repository ``repository_id``'s."""
    commit = remote.publish({"catalog-info.yaml": f"kind: Product # {repository_id}\n"})
    git = GitRepository(remote.url, "main", clones / str(repository_id), ("file",), shallow=True)
    git.prefetch(commit)
    assert (git.cache_path / "shallow").is_file()
    return git.cache_path


def laid_out(clones: Path, repository_id: int, digest: str = "0123456789abcdef") -> Path:
    """A clone folder laid out as ``GitRepository`` leaves one (without running git)."""
    cache = clones / str(repository_id) / digest
    for folder in ("objects/pack", "refs/heads"):
        (cache / folder).mkdir(parents=True)
    for name in ("HEAD", "shallow", HISTORY_FILE):
        (cache / name).write_text("x\n")
    (cache.parent / f"{digest}.lock").touch()
    age(cache.parent)
    return cache


def test_a_deleted_repositorys_clone_goes_at_the_second_listing_without_it(
    tmp_path: Path, git_remote: GitRemote
) -> None:
    clones = tmp_path / "git"
    kept, deleted = clone(clones, 1, git_remote), clone(clones, 2, git_remote)
    age(clones)
    pruner = ClonePruner(clones, listings=2)
    assert pruner.prune({1}, NOW) == 0
    assert (deleted / "HEAD").is_file()  # one listing may miss a repository moved between two pages
    assert pruner.prune({1}, NOW) == 1
    assert not (clones / "2").exists()
    assert sorted(p.name for p in clones.iterdir()) == ["1"]  # nothing left behind, nothing to count
    assert (kept / "shallow").is_file()


def test_a_repository_listed_again_after_one_miss_keeps_its_clone(tmp_path: Path) -> None:
    cache = laid_out(tmp_path, 7)
    pruner = ClonePruner(tmp_path, listings=2)
    for listed in (set(), {7}, set()):
        assert pruner.prune(listed, NOW) == 0
    assert (cache / "HEAD").is_file()


def test_a_clone_a_read_wrote_in_within_the_hour_waits_for_the_next_listing(tmp_path: Path) -> None:
    pruner = ClonePruner(tmp_path, listings=2)
    for written in ("shallow", HISTORY_FILE, "objects/pack", ""):
        cache = laid_out(tmp_path, 7)
        os.utime(cache / written, (NOW - 60, NOW - 60))  # another worker's fetch or history read
        pruner.prune(set(), NOW)
        assert pruner.prune(set(), NOW) == 0, written
        assert (cache / "HEAD").is_file()
        assert pruner.prune(set(), NOW + 2 * HOUR) == 1, written  # due since, removed at once
        assert not cache.exists()


def test_a_clone_whose_fetch_lock_is_held_is_kept(tmp_path: Path) -> None:
    cache = laid_out(tmp_path, 7)
    pruner = ClonePruner(tmp_path, listings=2)
    pruner.prune(set(), NOW)
    with open(cache.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as GitRepository holds it through a fetch
        assert pruner.prune(set(), NOW) == 0
    assert (cache / "HEAD").is_file()
    assert pruner.prune(set(), NOW) == 1


def test_no_link_is_followed_out_of_the_cache(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "precious.txt").write_text("not the cache's\n")
    clones = tmp_path / "git"
    cache = laid_out(clones, 7)
    (cache / "objects" / "info").symlink_to(outside)  # inside a clone: the link goes, not its target
    (clones / "8").symlink_to(outside, target_is_directory=True)  # named as a repository: not a clone
    pruner = ClonePruner(clones, listings=2)
    pruner.prune(set(), NOW + DAY)
    assert pruner.prune(set(), NOW + DAY) == 1
    assert not cache.exists()
    assert (clones / "8").is_symlink()
    assert (outside / "deep" / "precious.txt").read_text() == "not the cache's\n"


def test_a_folder_not_named_by_a_repository_id_is_left_alone(tmp_path: Path) -> None:
    for name in ("007", "notes", "12-old"):
        laid_out(tmp_path, 7).parent.rename(tmp_path / name)
    pruner = ClonePruner(tmp_path, listings=2)
    for _ in range(3):
        assert pruner.prune(set(), NOW) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"007", "notes", "12-old"}


def test_a_removal_cut_short_is_finished_at_a_later_pass(tmp_path: Path) -> None:
    left = laid_out(tmp_path, 7).parent.rename(tmp_path / "7.tmp-4242")  # a worker stopped mid-removal
    ClonePruner(tmp_path, listings=2).prune({1}, NOW)
    assert not left.exists()


def test_no_clones_folder_prunes_nothing(tmp_path: Path) -> None:
    assert ClonePruner(tmp_path / "git", listings=2).prune({1}, NOW) == 0
    assert not (tmp_path / "git").exists()
