"""A hosted source's shallow clones are pruned: a repository missing from two complete listings loses
its clone folder, and a listed repository renamed or transferred on the host loses the clone made under
its old URL, unless a read wrote in it within the hour or a fetch holds its lock; nothing outside the
cache is reached through a symbolic link, and a folder not named by a repository id is left alone."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from catalog_sync.sources.cloneprune import ClonePruner
from catalog_sync.sources.git import GitRepository
from catalog_sync.sources.hostedhistory import HISTORY_FILE
from catalog_sync.sources.urls import clone_folder_name
from tests.fixtures.gitrepos import GitRemote

NOW = time.time()
HOUR = 3600.0
DAY = 24 * HOUR
URL = "https://github.example/acme/pay.git"


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


def laid_out(clones: Path, repository_id: int, url: str = URL) -> Path:
    """A clone folder of ``url`` laid out as ``GitRepository`` leaves one (without running git)."""
    digest = clone_folder_name(url)
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
    assert pruner.prune({1: git_remote.url}, NOW) == 0
    assert (deleted / "HEAD").is_file()  # one listing may miss a repository moved between two pages
    assert pruner.prune({1: git_remote.url}, NOW) == 1
    assert not (clones / "2").exists()
    assert sorted(p.name for p in clones.iterdir()) == ["1"]  # nothing left behind, nothing to count
    assert (kept / "shallow").is_file()


def test_a_repository_listed_again_after_one_miss_keeps_its_clone(tmp_path: Path) -> None:
    cache = laid_out(tmp_path, 7)
    pruner = ClonePruner(tmp_path, listings=2)
    for listed in ({}, {7: URL}, {}):
        assert pruner.prune(listed, NOW) == 0
    assert (cache / "HEAD").is_file()


def test_a_clone_a_read_wrote_in_within_the_hour_waits_for_the_next_listing(tmp_path: Path) -> None:
    pruner = ClonePruner(tmp_path, listings=2)
    for written in ("shallow", HISTORY_FILE, "objects/pack", ""):
        cache = laid_out(tmp_path, 7)
        os.utime(cache / written, (NOW - 60, NOW - 60))  # another worker's fetch or history read
        pruner.prune({}, NOW)
        assert pruner.prune({}, NOW) == 0, written
        assert (cache / "HEAD").is_file()
        assert pruner.prune({}, NOW + 2 * HOUR) == 1, written  # due since, removed at once
        assert not cache.exists()


def test_a_clone_whose_fetch_lock_is_held_is_kept(tmp_path: Path) -> None:
    cache = laid_out(tmp_path, 7)
    pruner = ClonePruner(tmp_path, listings=2)
    pruner.prune({}, NOW)
    with open(cache.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as GitRepository holds it through a fetch
        assert pruner.prune({}, NOW) == 0
    assert (cache / "HEAD").is_file()
    assert pruner.prune({}, NOW) == 1


def test_no_link_is_followed_out_of_the_cache(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "precious.txt").write_text("not the cache's\n")
    clones = tmp_path / "git"
    cache = laid_out(clones, 7)
    (cache / "objects" / "info").symlink_to(outside)  # inside a clone: the link goes, not its target
    (clones / "8").symlink_to(outside, target_is_directory=True)  # named as a repository: not a clone
    pruner = ClonePruner(clones, listings=2)
    pruner.prune({}, NOW + DAY)
    assert pruner.prune({}, NOW + DAY) == 1
    assert not cache.exists()
    assert (clones / "8").is_symlink()
    assert (outside / "deep" / "precious.txt").read_text() == "not the cache's\n"


def test_a_folder_not_named_by_a_repository_id_is_left_alone(tmp_path: Path) -> None:
    for name in ("007", "notes", "12-old"):
        laid_out(tmp_path, 7).parent.rename(tmp_path / name)
    pruner = ClonePruner(tmp_path, listings=2)
    for _ in range(3):
        assert pruner.prune({}, NOW) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"007", "notes", "12-old"}


def test_a_removal_cut_short_is_finished_at_a_later_pass(tmp_path: Path) -> None:
    left = laid_out(tmp_path, 7).parent.rename(tmp_path / "7.tmp-4242")  # a worker stopped mid-removal
    ClonePruner(tmp_path, listings=2).prune({1: URL}, NOW)
    assert not left.exists()


def test_no_clones_folder_prunes_nothing(tmp_path: Path) -> None:
    assert ClonePruner(tmp_path / "git", listings=2).prune({1: URL}, NOW) == 0
    assert not (tmp_path / "git").exists()


def moved(remote: GitRemote, name: str) -> str:
    """Move ``remote``'s bare repository to ``name`` beside it, as a host renaming it; its new URL."""
    return "file://" + str(remote.path.rename(remote.path.with_name(name)).resolve())


def fetched(clones: Path, repository_id: int, url: str) -> Path:
    """A real shallow clone of ``url``'s tip where a source keeps repository ``repository_id``'s."""
    git = GitRepository(url, "main", clones / str(repository_id), ("file",), shallow=True)
    git.prefetch(git.tip())
    assert (git.cache_path / "shallow").is_file()
    return git.cache_path


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_renamed_repositorys_old_clone_goes_and_its_current_one_stays(
    tmp_path: Path, git_remote: GitRemote
) -> None:
    clones = tmp_path / "git"
    old = clone(clones, 1, git_remote)
    age(clones)
    url = moved(git_remote, "renamed.git")
    current = fetched(clones, 1, url)
    assert current != old
    pruner = ClonePruner(clones, listings=2)
    assert pruner.prune({1: url}, NOW) == 1
    assert not old.exists()
    assert names(clones / "1") == sorted([current.name, f"{current.name}.lock"])  # the old lock went too
    assert (current / "shallow").is_file()
    assert not (clones / "missed.json").exists()  # listed: nothing counted against the repository


def test_an_old_clone_written_within_the_hour_is_kept_until_a_later_listing(
    tmp_path: Path, git_remote: GitRemote
) -> None:
    clones = tmp_path / "git"
    old = clone(clones, 1, git_remote)  # fetched a moment ago: a worker with the old listing may read it
    url = moved(git_remote, "renamed.git")
    fetched(clones, 1, url)
    pruner = ClonePruner(clones, listings=2)
    assert pruner.prune({1: url}, time.time()) == 0
    assert (old / "shallow").is_file()
    assert pruner.prune({1: url}, time.time() + 2 * HOUR) == 1
    assert not old.exists()


def test_an_old_clone_whose_fetch_lock_is_held_is_kept(tmp_path: Path) -> None:
    old = laid_out(tmp_path, 7, "https://github.example/acme/old-name.git")
    current = laid_out(tmp_path, 7)
    pruner = ClonePruner(tmp_path, listings=2)
    with open(old.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a worker whose listing still has the old name fetches
        assert pruner.prune({7: URL}, NOW) == 0
        assert (old / "HEAD").is_file()
    assert pruner.prune({7: URL}, NOW) == 1
    assert names(tmp_path / "7") == sorted([current.name, f"{current.name}.lock"])


def test_no_link_is_followed_out_of_a_listed_repositorys_folder(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "precious.txt").write_text("not the cache's\n")
    clones = tmp_path / "git"
    old = laid_out(clones, 7, "https://github.example/acme/old-name.git")
    (old / "objects" / "info").symlink_to(outside)  # inside an old clone: the link goes, not its target
    linked = clones / "7" / clone_folder_name("https://github.example/acme/other.git")
    linked.symlink_to(outside, target_is_directory=True)  # named as a clone: not one
    age(clones / "7")
    assert ClonePruner(clones, listings=2).prune({7: URL}, NOW) == 1
    assert not old.exists()
    assert linked.is_symlink()
    assert (outside / "deep" / "precious.txt").read_text() == "not the cache's\n"


def test_an_old_clone_appearing_in_a_settled_folder_is_still_found(tmp_path: Path) -> None:
    current = laid_out(tmp_path, 7)
    pruner = ClonePruner(tmp_path, listings=2)
    assert pruner.prune({7: URL}, NOW) == 0  # the folder holds its current clone alone: not listed again
    old = tmp_path / "7" / clone_folder_name("https://github.example/acme/old-name.git")
    (old / "objects" / "pack").mkdir(parents=True)  # a worker still on the old listing fetches it
    (old / "HEAD").write_text("x\n")
    age(old)
    assert pruner.prune({7: URL}, NOW) == 1
    assert not old.exists()
    assert (current / "HEAD").is_file()


def test_a_cut_short_removal_of_an_old_clone_is_finished_and_other_names_are_left(tmp_path: Path) -> None:
    current = laid_out(tmp_path, 7)
    old = clone_folder_name("https://github.example/acme/old-name.git")
    left = tmp_path / "7" / f"{old}.tmp-4242"  # a worker stopped mid-removal
    (left / "objects" / "pack").mkdir(parents=True)
    (tmp_path / "7" / "notes").mkdir()
    age(tmp_path / "7")
    ClonePruner(tmp_path, listings=2).prune({7: URL}, NOW)
    assert not left.exists()
    assert names(tmp_path / "7") == sorted([current.name, f"{current.name}.lock", "notes"])
