"""Reading a commit straight from git's object store, checked against git's own answers."""

from __future__ import annotations

import hashlib
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalog_sync.errors import SourceError
from catalog_sync.sources.gitread import SUBMODULE_MODE, SYMLINK_MODE, GitSnapshot
from tests.fixtures.gitrepos import GitRepo

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def _ls_tree(repo: GitRepo, commit: str) -> list[tuple[str, str, int, int]]:
    """git's own listing: (path, sha, mode, size) per file, as the snapshot must report it."""
    rows = []
    for line in repo.git("ls-tree", "-r", "-l", "-z", commit).split("\0"):
        if not line:
            continue
        meta, path = line.split("\t", 1)
        mode, kind, sha, size = meta.split()
        rows.append((path, sha, int(mode, 8), 0 if kind == "commit" else int(size)))
    return sorted(rows)


def _listing(snapshot: GitSnapshot) -> list[tuple[str, str, int, int]]:
    return [(e.path, e.sha, e.mode, e.size) for e in snapshot.tree()]


@pytest.fixture
def busy_repo(git_repo: GitRepo) -> GitRepo:
    """Nested folders, an executable, a symlink, a submodule, binary and growing files, 6 commits."""
    rng = random.Random(7)
    git_repo.write("README.md", "# demo\n")
    git_repo.write("bin/run.sh", "#!/bin/sh\necho hi\n", executable=True)
    git_repo.symlink("link.yaml", "/etc/passwd")
    git_repo.write("data/blob.bin", bytes(rng.randrange(256) for _ in range(3000)))
    git_repo.commit("first", when="2024-01-01T10:00:00Z")
    text = "".join(f"line {i} of a file that changes a little each time\n" for i in range(400))
    for n in range(5):
        text = text.replace(f"line {n * 7} ", f"LINE {n * 7} ")
        git_repo.write("services/pay/deep/er/catalog-info.yaml", text)
        git_repo.write(f"docs/page{n}.md", f"page {n}\n")
        git_repo.commit(f"change {n}", when=f"2024-02-0{n + 1}T10:00:00Z")
    submodule_target = git_repo.head()
    git_repo.git("update-index", "--add", "--cacheinfo", f"160000,{submodule_target},vendor/lib")
    git_repo.git("commit", "--quiet", "-m", "add a submodule")
    return git_repo


@pytest.mark.parametrize(
    "packing",
    [
        "loose",
        "gc",
        "ref-deltas",
    ],
)
def test_tree_and_blobs_match_git_whatever_the_object_storage(busy_repo: GitRepo, packing: str) -> None:
    if packing == "gc":
        busy_repo.git("repack", "-a", "-d", "-f", "--window=50", "--depth=50")
    elif packing == "ref-deltas":
        busy_repo.git("-c", "repack.useDeltaBaseOffset=false", "repack", "-a", "-d", "-f", "--window=50")
    commits = busy_repo.git("rev-list", "HEAD").split()
    assert len(commits) == 7
    for commit in commits:
        with GitSnapshot(busy_repo.git_dir, commit, "main") as snapshot:
            listing = _listing(snapshot)
            assert listing == _ls_tree(busy_repo, commit)
            for _, sha, mode, size in listing:
                if mode != SUBMODULE_MODE:
                    data = snapshot.read_blob(sha)
                    # git's object id is the hash of the content: equal ids prove equal bytes.
                    assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == sha
                    assert len(data) == size


def test_packs_used_by_the_storage_test_really_hold_deltas(busy_repo: GitRepo) -> None:
    busy_repo.git("-c", "repack.useDeltaBaseOffset=false", "repack", "-a", "-d", "-f", "--window=50")
    pack = next((busy_repo.git_dir / "objects" / "pack").glob("*.idx"))
    verify = busy_repo.git("verify-pack", "-v", str(pack))
    assert "chain length = " in verify


def test_symlinks_and_submodules_are_listed_with_their_modes(busy_repo: GitRepo) -> None:
    with GitSnapshot(busy_repo.git_dir, busy_repo.head(), "main") as snapshot:
        modes = {e.path: e.mode for e in snapshot.tree()}
        link = next(e for e in snapshot.tree() if e.path == "link.yaml")
        assert snapshot.read_blob(link.sha) == b"/etc/passwd"  # the link text, never the target
    assert modes["link.yaml"] == SYMLINK_MODE
    assert modes["vendor/lib"] == SUBMODULE_MODE
    assert modes["bin/run.sh"] == 0o100755
    assert modes["README.md"] == 0o100644


def test_commit_metadata_is_timezone_aware_utc(git_repo: GitRepo) -> None:
    sha = git_repo.commit("x", files={"a": "1"}, when="2024-03-01T12:00:00+02:00")
    with GitSnapshot(git_repo.git_dir, sha, "main") as snapshot:
        assert snapshot.commit == sha
        assert snapshot.branch == "main"
        assert snapshot.committed_at == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
        assert snapshot.committed_at.tzinfo is not None


def test_unknown_commit_or_wrong_object_type_is_a_source_error(git_repo: GitRepo) -> None:
    sha = git_repo.commit("x", files={"a": "1"})
    with pytest.raises(SourceError, match="missing"):
        GitSnapshot(git_repo.git_dir, "0" * 40, "main")
    with pytest.raises(SourceError, match="full commit id"):
        GitSnapshot(git_repo.git_dir, sha[:12], "main")
    with (
        GitSnapshot(git_repo.git_dir, sha, "main") as snapshot,
        pytest.raises(SourceError, match="not a blob"),
    ):
        snapshot.read_blob(sha)


def test_history_counts_commits_and_authors_back_to_since(git_repo: GitRepo) -> None:
    for days, author in [(100, "A <a@x>"), (60, "B <b@x>"), (20, "C <c@x>"), (10, "C <C@X>"), (1, "D <d@x>")]:
        git_repo.commit(
            f"{days} days ago", files={"f": str(days)}, when=NOW - timedelta(days=days), author=author
        )
    with GitSnapshot(git_repo.git_dir, git_repo.head(), "main") as snapshot:
        history = snapshot.history(NOW - timedelta(days=90))
        assert [c.committed_at for c in history.commits] == [NOW - timedelta(days=d) for d in (1, 10, 20, 60)]
        assert [c.author for c in history.commits] == ["d@x", "c@x", "c@x", "b@x"]
        assert not history.truncated
        limited = snapshot.history(NOW - timedelta(days=90), max_commits=2)
        assert len(limited.commits) == 2
        assert limited.truncated
        assert not snapshot.history(NOW - timedelta(days=15), max_commits=2).truncated


def test_history_follows_both_sides_of_a_merge_in_date_order(git_repo: GitRepo) -> None:
    git_repo.commit("base", files={"a": "0"}, when=NOW - timedelta(days=10))
    git_repo.branch("feature")
    git_repo.commit("feature work", files={"b": "1"}, when=NOW - timedelta(days=8))
    git_repo.checkout("main")
    git_repo.commit("main work", files={"a": "1"}, when=NOW - timedelta(days=9))
    git_repo.merge("feature", when=NOW - timedelta(days=7))
    with GitSnapshot(git_repo.git_dir, git_repo.head(), "main") as snapshot:
        messages_by_age = [c.committed_at for c in snapshot.history(NOW - timedelta(days=30)).commits]
    assert messages_by_age == [NOW - timedelta(days=d) for d in (7, 8, 9, 10)]


def test_last_changed_finds_the_newest_commit_that_changed_each_path(git_repo: GitRepo) -> None:
    git_repo.commit(
        "one", files={"a.yaml": "1", "b/c.yaml": "1", "same.yaml": "s"}, when=NOW - timedelta(days=50)
    )
    git_repo.commit("two", files={"a.yaml": "2"}, when=NOW - timedelta(days=40))
    git_repo.commit("three", files={"other": "x"}, when=NOW - timedelta(days=30))
    git_repo.move("b/c.yaml", "moved/c.yaml")
    git_repo.commit("move", when=NOW - timedelta(days=20))
    git_repo.commit("touch other", files={"other": "y"}, when=NOW - timedelta(days=10))
    with GitSnapshot(git_repo.git_dir, git_repo.head(), "main") as snapshot:
        changed = snapshot.last_changed(["a.yaml", "moved/c.yaml", "same.yaml"])
        bounded = snapshot.last_changed(["same.yaml"], max_commits=3)
    assert changed == {
        "a.yaml": NOW - timedelta(days=40),
        "moved/c.yaml": NOW - timedelta(days=20),
        "same.yaml": NOW - timedelta(days=50),
    }
    # Not found within 3 commits: the oldest commit walked stands in.
    assert bounded == {"same.yaml": NOW - timedelta(days=30)}


def test_last_changed_ignores_a_side_change_that_the_merge_discarded(git_repo: GitRepo) -> None:
    git_repo.commit("base", files={"catalog-info.yaml": "v1"}, when=NOW - timedelta(days=30))
    git_repo.branch("experiment")
    git_repo.commit("try v2", files={"catalog-info.yaml": "v2"}, when=NOW - timedelta(days=20))
    git_repo.checkout("main")
    git_repo.commit("unrelated", files={"x": "1"}, when=NOW - timedelta(days=15))
    git_repo.git("merge", "--quiet", "-s", "ours", "--no-edit", "experiment")
    with GitSnapshot(git_repo.git_dir, git_repo.head(), "main") as snapshot:
        assert snapshot.last_changed(["catalog-info.yaml"]) == {"catalog-info.yaml": NOW - timedelta(days=30)}


def test_last_changed_credits_a_merged_side_change_to_its_commit(git_repo: GitRepo) -> None:
    git_repo.commit("base", files={"catalog-info.yaml": "v1"}, when=NOW - timedelta(days=30))
    git_repo.branch("feature")
    git_repo.commit("v2", files={"catalog-info.yaml": "v2"}, when=NOW - timedelta(days=20))
    git_repo.checkout("main")
    git_repo.commit("unrelated", files={"x": "1"}, when=NOW - timedelta(days=15))
    git_repo.merge("feature", when=NOW - timedelta(days=5))
    with GitSnapshot(git_repo.git_dir, git_repo.head(), "main") as snapshot:
        assert snapshot.last_changed(["catalog-info.yaml"]) == {"catalog-info.yaml": NOW - timedelta(days=20)}


def _mapped_files() -> str:
    return Path("/proc/self/maps").read_text()


def test_close_releases_every_pack_mapping_and_file(busy_repo: GitRepo) -> None:
    busy_repo.git("repack", "-a", "-d", "-q")
    pack_dir = str(busy_repo.git_dir / "objects" / "pack")
    fds_before = len(os.listdir("/proc/self/fd"))
    snapshot = GitSnapshot(busy_repo.git_dir, busy_repo.head(), "main")
    for entry in snapshot.tree():
        if entry.mode != SUBMODULE_MODE:
            snapshot.read_blob(entry.sha)
    snapshot.history(NOW - timedelta(days=3650))
    assert pack_dir in _mapped_files()
    snapshot.close()
    assert pack_dir not in _mapped_files()
    assert len(os.listdir("/proc/self/fd")) == fds_before


def test_a_work_tree_edit_is_never_read(git_repo: GitRepo) -> None:
    sha = git_repo.commit("x", files={"catalog-info.yaml": "committed\n"})
    git_repo.write("catalog-info.yaml", "edited, not committed\n")
    git_repo.write("new-file.yaml", "untracked\n")
    with GitSnapshot(git_repo.git_dir, sha, "main") as snapshot:
        entries = snapshot.tree()
        assert [e.path for e in entries] == ["catalog-info.yaml"]
        assert snapshot.read_blob(entries[0].sha) == b"committed\n"
