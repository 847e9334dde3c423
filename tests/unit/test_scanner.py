"""The scanner over real repositories: which files are read, which are refused, and the facts."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta

import pytest

import catalog_sync.scanner as scanner
from catalog_sync.config import DEFAULT_FACT_PATHS, DescriptorSettings
from catalog_sync.descriptors.parsed import ParsedFile
from catalog_sync.errors import ScanBudgetError
from catalog_sync.scanner import RepoFacts, ScanResult, scan
from catalog_sync.sources.budget import ScanBudget
from catalog_sync.sources.gitread import GitSnapshot
from tests.fixtures.gitrepos import GitRepo, commit_tree_bomb
from tests.fixtures.snapshots import WrappedSnapshot

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def product(name: str) -> str:
    return (
        "apiVersion: catalog/v1\nkind: Product\n"
        f"metadata:\n  name: {name}\n"
        "spec:\n  type: service\n  lifecycle: production\n  owner: team:payments\n"
        "  capabilities: [capability:payments]\n"
    )


def location(*targets: str, name: str = "more") -> str:
    listed = "".join(f"    - {t}\n" for t in targets)
    return (
        "apiVersion: backstage.io/v1alpha1\nkind: Location\n"
        f"metadata:\n  name: {name}\nspec:\n  type: url\n  targets:\n{listed}"
    )


class CountingSnapshot(WrappedSnapshot):
    """A real snapshot that also records which blobs were read and how often history was walked."""

    def __init__(self, inner: GitSnapshot) -> None:
        super().__init__(inner)
        self.blobs_read: list[str] = []
        self.last_changed_calls: list[list[str]] = []

    def read_blob(self, sha: str) -> bytes:
        self.blobs_read.append(sha)
        return self.inner.read_blob(sha)

    def last_changed(
        self, paths: list[str], max_commits: int = 1000, budget: ScanBudget | None = None
    ) -> dict[str, datetime]:
        self.last_changed_calls.append(list(paths))
        return self.inner.last_changed(paths, max_commits, budget)


def run_scan(
    repo: GitRepo, settings: DescriptorSettings | None = None, **kwargs: object
) -> tuple[ScanResult, CountingSnapshot]:
    snapshot = CountingSnapshot(GitSnapshot(repo.git_dir, repo.head(), "main"))
    try:
        result = scan(snapshot, settings or DescriptorSettings(), DEFAULT_FACT_PATHS, now=NOW, **kwargs)  # type: ignore[arg-type]
    finally:
        snapshot.close()
    return result, snapshot


def by_path(result: ScanResult) -> dict[str, ParsedFile]:
    return {f.path: f for f in result.files}


def messages(parsed: ParsedFile) -> list[str]:
    return [p.format() for p in parsed.all_problems()]


def test_descriptors_are_picked_by_the_configured_patterns(git_repo: GitRepo) -> None:
    git_repo.commit(
        "layout",
        files={
            "catalog-info.yaml": product("root"),
            "services/pay/catalog-info.yml": product("pay"),
            ".catalog/extra.yaml": product("extra"),
            ".catalog/deeper/ignored.yaml": product("ignored"),
            "other.yaml": product("other"),
            "services/pay/catalog-info.yaml.bak": product("backup"),
        },
        when=NOW - timedelta(days=1),
    )
    result, _ = run_scan(git_repo)
    assert sorted(by_path(result)) == [
        ".catalog/extra.yaml",
        "catalog-info.yaml",
        "services/pay/catalog-info.yml",
    ]
    names = sorted(d.entity.name for f in result.files for d in f.documents if d.entity)
    assert names == ["extra", "pay", "root"]
    assert all(f.blob_sha for f in result.files)
    assert result.commit == git_repo.head()
    assert result.committed_at == NOW - timedelta(days=1)
    only_root, _ = run_scan(git_repo, DescriptorSettings(patterns=("catalog-info.yaml",)))
    assert [f.path for f in only_root.files] == ["catalog-info.yaml"]


def test_a_repository_without_descriptors_yields_no_files(git_repo: GitRepo) -> None:
    git_repo.commit("code only", files={"main.py": "print('hi')\n"})
    result, _ = run_scan(git_repo)
    assert result.files == []
    assert result.descriptor_changed == {}


def test_a_symlinked_descriptor_is_refused_and_never_followed(git_repo: GitRepo) -> None:
    git_repo.symlink("catalog-info.yaml", "/etc/passwd")
    git_repo.commit("link", files={"services/a/catalog-info.yaml": product("a")})
    result, snapshot = run_scan(git_repo)
    refused = by_path(result)["catalog-info.yaml"]
    assert refused.documents == []
    assert refused.has_errors
    assert "is a symbolic link; descriptors must be regular files" in messages(refused)[0]
    # The neighbour is unaffected, and only its blob was read.
    assert by_path(result)["services/a/catalog-info.yaml"].documents[0].entity is not None
    assert len(snapshot.blobs_read) == 1


def test_a_submodule_named_like_a_descriptor_is_refused(git_repo: GitRepo) -> None:
    target = git_repo.commit("base", files={"README.md": "x\n"})
    git_repo.git("update-index", "--add", "--cacheinfo", f"160000,{target},catalog-info.yaml")
    git_repo.git("commit", "--quiet", "-m", "gitlink")
    result, _ = run_scan(git_repo)
    assert "is a submodule" in messages(by_path(result)["catalog-info.yaml"])[0]


def test_an_oversize_descriptor_is_refused_without_being_read(git_repo: GitRepo) -> None:
    big = product("big") + "# padding\n" * 200
    git_repo.commit("big", files={"catalog-info.yaml": big, ".catalog/small.yaml": product("small")})
    result, snapshot = run_scan(git_repo, DescriptorSettings(max_file_bytes=500))
    refused = by_path(result)["catalog-info.yaml"]
    assert refused.has_errors
    assert "larger than the limit of 500 bytes" in messages(refused)[0]
    big_sha = refused.blob_sha
    assert big_sha is not None
    assert big_sha not in snapshot.blobs_read
    assert by_path(result)[".catalog/small.yaml"].documents[0].entity is not None


def test_a_broken_file_affects_only_itself(git_repo: GitRepo) -> None:
    git_repo.commit(
        "mixed", files={"catalog-info.yaml": "kind: [unclosed\n", ".catalog/ok.yaml": product("ok")}
    )
    result, _ = run_scan(git_repo)
    assert by_path(result)["catalog-info.yaml"].has_errors
    assert not by_path(result)[".catalog/ok.yaml"].has_errors


def test_location_targets_are_read_relative_to_the_location_file(git_repo: GitRepo) -> None:
    git_repo.commit(
        "locations",
        files={
            "catalog-info.yaml": location("./teams/payments.yaml", "services/../shared/lib.yaml"),
            "teams/payments.yaml": product("from-location"),
            "shared/lib.yaml": location("./nested/deep.yaml", name="nested"),
            "shared/nested/deep.yaml": product("deep"),
        },
    )
    result, _ = run_scan(git_repo)
    assert list(by_path(result)) == [
        "catalog-info.yaml",
        "teams/payments.yaml",
        "shared/lib.yaml",
        "shared/nested/deep.yaml",
    ]
    assert not any(f.has_errors for f in result.files)
    assert set(result.descriptor_changed) == set(by_path(result))


def test_location_targets_may_be_globs(git_repo: GitRepo) -> None:
    git_repo.commit(
        "glob",
        files={
            "catalog-info.yaml": location("./products/*.yaml", "./none/*.yaml"),
            "products/a.yaml": product("a"),
            "products/b.yaml": product("b"),
        },
    )
    result, _ = run_scan(git_repo)
    assert sorted(by_path(result)) == ["catalog-info.yaml", "products/a.yaml", "products/b.yaml"]
    assert any("matches no file" in m for m in messages(by_path(result)["catalog-info.yaml"]))


def test_a_location_cannot_escape_the_repository(git_repo: GitRepo) -> None:
    targets = location("../../../etc/passwd", "./../../../../x.yaml", "../../x.yaml")
    git_repo.commit("escape", files={"services/a/catalog-info.yaml": targets, "x.yaml": product("x")})
    result, snapshot = run_scan(git_repo)
    found = messages(by_path(result)["services/a/catalog-info.yaml"])
    assert len([m for m in found if "points outside the repository" in m and ": error: " in m]) == 2
    # Going up to the root and no further is allowed.
    assert [f.path for f in result.files] == ["services/a/catalog-info.yaml", "x.yaml"]
    assert len(snapshot.blobs_read) == 2


def test_absolute_urls_in_a_location_are_not_fetched(git_repo: GitRepo) -> None:
    git_repo.commit("url", files={"catalog-info.yaml": location("https://example.com/x/catalog-info.yaml")})
    result, _ = run_scan(git_repo)
    [parsed] = result.files
    warnings = [
        p for p in parsed.all_problems() if p.severity == "warning" and "absolute" in p.message.lower()
    ]
    assert warnings
    assert not parsed.has_errors


def test_a_missing_location_target_is_an_error_on_the_location_line(git_repo: GitRepo) -> None:
    text = product("first") + "---\n" + location("./missing.yaml")
    git_repo.commit("missing", files={"catalog-info.yaml": text})
    result, _ = run_scan(git_repo)
    [parsed] = result.files
    [problem] = [p for p in parsed.all_problems() if p.severity == "error"]
    assert "'./missing.yaml' (missing.yaml) is not a file of this repository" in problem.message
    assert problem.line == text.splitlines().index("---") + 2
    assert problem.entity_ref == "location:default/more"
    assert problem.field == "spec.targets"


def test_cycles_and_duplicates_read_each_file_once(git_repo: GitRepo) -> None:
    git_repo.commit(
        "cycle",
        files={
            "catalog-info.yaml": location("./a.yaml", "./a.yaml", "catalog-info.yaml", name="root"),
            "a.yaml": location("./b.yaml", name="a"),
            "b.yaml": location("./a.yaml", "./catalog-info.yaml", name="b"),
        },
    )
    result, snapshot = run_scan(git_repo)
    assert [f.path for f in result.files] == ["catalog-info.yaml", "a.yaml", "b.yaml"]
    assert len(snapshot.blobs_read) == 3
    assert not any(f.has_errors for f in result.files)


def test_descriptor_change_times_are_reused_while_the_blob_is_unchanged(git_repo: GitRepo) -> None:
    git_repo.commit("one", files={"catalog-info.yaml": product("a"), ".catalog/b.yaml": product("b")},
                    when=NOW - timedelta(days=40))  # fmt: skip
    git_repo.commit("two", files={".catalog/b.yaml": product("b2")}, when=NOW - timedelta(days=20))
    first, snapshot = run_scan(git_repo)
    assert first.descriptor_changed == {
        "catalog-info.yaml": NOW - timedelta(days=40),
        ".catalog/b.yaml": NOW - timedelta(days=20),
    }
    assert snapshot.last_changed_calls == [[".catalog/b.yaml", "catalog-info.yaml"]]
    blobs = {f.path: f.blob_sha or "" for f in first.files}
    remembered = {
        "catalog-info.yaml": NOW - timedelta(days=400),
        ".catalog/b.yaml": NOW - timedelta(days=300),
    }
    git_repo.commit("three", files={"catalog-info.yaml": product("a3")}, when=NOW - timedelta(days=5))
    second, snapshot = run_scan(git_repo, previous_blobs=blobs, previous_changed=remembered)
    # b.yaml's blob is unchanged: its remembered time is kept without a history walk.
    assert second.descriptor_changed == {
        "catalog-info.yaml": NOW - timedelta(days=5),
        ".catalog/b.yaml": NOW - timedelta(days=300),
    }
    assert snapshot.last_changed_calls == [["catalog-info.yaml"]]


def test_facts_report_paths_and_recent_activity(git_repo: GitRepo) -> None:
    dated = [(120, "Ann <ann@x>"), (80, "Bob <bob@x>"), (45, "Bob <bob@x>"), (25, "Cid <cid@x>"),
             (10, "Ann <ann@x>"), (2, "Ann <ann@x>")]  # fmt: skip
    for days, author in dated:
        git_repo.commit(
            f"{days}", files={"src/x.py": str(days)}, when=NOW - timedelta(days=days), author=author
        )
    git_repo.commit(
        "docs",
        files={"README.md": "# x\n", "docs/guide/index.md": "hi\n", ".github/workflows/ci.yml": "on: push\n"},
        when=NOW - timedelta(days=1),
        author="Dee <dee@x>",
    )
    result, _ = run_scan(git_repo)
    facts = result.facts
    assert facts.paths_present["README.md"] is True
    assert facts.paths_present["docs/"] is True
    assert facts.paths_present[".github/workflows/"] is True
    assert facts.paths_present["runbooks/"] is False
    assert facts.paths_present["LICENSE"] is False
    assert facts.last_commit_at == NOW - timedelta(days=1)
    assert (facts.commits_30d, facts.commits_90d) == (4, 6)
    assert (facts.authors_30d, facts.authors_90d) == (3, 4)
    assert facts.history_truncated is False


def test_a_folder_fact_needs_a_file_inside_and_not_a_lookalike(git_repo: GitRepo) -> None:
    git_repo.commit("x", files={"docs.md": "not a folder\n", "runbooks-old/a.md": "lookalike\n"})
    snapshot = GitSnapshot(git_repo.git_dir, git_repo.head(), "main")
    with snapshot:
        facts = scan(snapshot, DescriptorSettings(), ["docs/", "runbooks/", "docs.md"], now=NOW).facts
    assert facts.paths_present == {"docs/": False, "runbooks/": False, "docs.md": True}


def test_facts_round_trip_through_json(git_repo: GitRepo) -> None:
    git_repo.commit("x", files={"README.md": "x\n"}, when=NOW - timedelta(days=3))
    result, _ = run_scan(git_repo)
    stored = json.dumps(result.facts.to_dict())
    assert RepoFacts.from_dict(json.loads(stored)) == result.facts


def test_scan_results_pickle_for_worker_processes(git_repo: GitRepo) -> None:
    git_repo.commit(
        "x", files={"catalog-info.yaml": product("a") + "---\n" + location("https://e.com/x.yaml")}
    )
    result, _ = run_scan(git_repo)
    copy = pickle.loads(pickle.dumps(result))
    assert copy == result
    assert copy.files[0].documents[0].entity is not None


def test_a_history_over_the_bound_is_reported_as_truncated(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    for day in range(5):
        git_repo.commit(f"{day}", files={"f": str(day)}, when=NOW - timedelta(days=day + 1))
    monkeypatch.setattr(scanner, "MAX_HISTORY_COMMITS", 3)
    result, _ = run_scan(git_repo)
    assert result.facts.history_truncated is True
    assert result.facts.commits_30d == 3


def test_only_committed_content_is_scanned(git_repo: GitRepo) -> None:
    git_repo.commit("x", files={"catalog-info.yaml": product("committed")})
    git_repo.write("catalog-info.yaml", product("edited"))
    git_repo.write(".catalog/new.yaml", product("untracked"))
    result, _ = run_scan(git_repo)
    assert [d.entity.name for f in result.files for d in f.documents if d.entity] == ["committed"]


def budget(entries: int = 200_000, read: int = 64 * 1024 * 1024, seconds: float = 60.0) -> ScanBudget:
    return ScanBudget(max_entries=entries, max_bytes=read, seconds=seconds)


def scan_within(repo: GitRepo, spend: ScanBudget, settings: DescriptorSettings | None = None) -> ScanResult:
    with GitSnapshot(repo.git_dir, repo.head(), "main") as snapshot:
        return scan(snapshot, settings or DescriptorSettings(), DEFAULT_FACT_PATHS, now=NOW, budget=spend)


def test_a_tree_bomb_fails_at_the_entry_budget_having_read_no_more(git_repo: GitRepo) -> None:
    commit_tree_bomb(git_repo, levels=5, files={"catalog-info.yaml": product("a")})  # a million paths
    spend = budget(entries=1000)
    with pytest.raises(ScanBudgetError) as failure:
        scan_within(git_repo, spend)
    assert str(failure.value) == (
        "the repository's tree lists more than 1000 entries where descriptors and facts are looked for "
        "(descriptors.max_tree_entries); nothing was read from it"
    )
    assert spend.entries <= 1001
    assert spend.bytes < 100_000


def test_a_tree_bomb_fails_at_the_byte_budget_before_its_trees_are_inflated(git_repo: GitRepo) -> None:
    commit_tree_bomb(git_repo, levels=5)
    spend = budget(read=64 * 1024)
    with pytest.raises(ScanBudgetError, match=r"more than 65536 bytes \(descriptors.max_read_bytes\)"):
        scan_within(git_repo, spend)
    assert spend.bytes <= 64 * 1024 + 400  # the tree that went over is refused from its header


def test_one_huge_tree_is_refused_from_its_header(git_repo: GitRepo) -> None:
    commit_tree_bomb(git_repo, levels=0, width=5000, files={"catalog-info.yaml": product("a")})
    spend = budget(read=64 * 1024)
    with pytest.raises(ScanBudgetError, match=r"\(descriptors\.max_read_bytes\)"):
        scan_within(git_repo, spend)
    assert spend.entries == 2  # the root's two entries were listed; the 5,000-entry folder never was


def test_a_scan_over_its_seconds_fails_naming_the_setting(git_repo: GitRepo) -> None:
    commit_tree_bomb(git_repo, levels=3)
    ticks = iter(range(0, 10_000, 1))
    spend = ScanBudget(max_entries=10**6, max_bytes=10**9, seconds=30, clock=lambda: float(next(ticks)))
    with pytest.raises(ScanBudgetError) as failure:
        scan_within(git_repo, spend)
    assert str(failure.value) == (
        "scanning the repository took longer than 30 seconds (sync.scan_timeout_seconds); "
        "nothing was read from it"
    )


def test_folders_no_pattern_or_fact_can_reach_are_never_read(git_repo: GitRepo) -> None:
    files = {
        "catalog-info.yaml": product("root"),
        ".catalog/extra.yaml": product("extra"),
        "docs/guide/index.md": "hi\n",
        "README.md": "x\n",
    }
    commit_tree_bomb(git_repo, levels=8, at="vendor/bomb", files=files)  # a billion paths
    narrow = DescriptorSettings(patterns=("catalog-info.yaml", ".catalog/*.yaml"))
    spend = budget(entries=100)
    result = scan_within(git_repo, spend, narrow)
    assert sorted(by_path(result)) == [".catalog/extra.yaml", "catalog-info.yaml"]
    assert result.facts.paths_present["docs/"] is True
    assert result.facts.paths_present["README.md"] is True
    assert result.facts.paths_present["runbooks/"] is False
    # root, .catalog, docs and docs/guide; vendor is one entry of the root, never opened
    assert spend.entries == 5 + 1 + 1 + 1
    with pytest.raises(ScanBudgetError, match=r"\(descriptors\.max_tree_entries\)"):
        scan_within(git_repo, budget(entries=100))  # "**/catalog-info.yaml" must look everywhere


def test_a_folder_fact_stops_looking_once_it_has_seen_a_file(git_repo: GitRepo) -> None:
    files = {"docs/a.md": "a\n", "catalog-info.yaml": product("root")}
    commit_tree_bomb(git_repo, levels=8, at="docs/z", files=files)
    narrow = DescriptorSettings(patterns=("catalog-info.yaml",))
    result = scan_within(git_repo, budget(entries=100), narrow)
    assert result.facts.paths_present["docs/"] is True
    assert [f.path for f in result.files] == ["catalog-info.yaml"]


def test_location_targets_outside_the_patterns_are_found_without_reading_the_rest(git_repo: GitRepo) -> None:
    files = {
        "catalog-info.yaml": location("./teams/payments.yaml", "./products/*.yaml", "./gone.yaml"),
        "teams/payments.yaml": location("../shared/deep/lib.yaml", name="nested"),
        "shared/deep/lib.yaml": product("deep"),
        "products/a.yaml": product("a"),
        "products/b.yaml": product("b"),
    }
    commit_tree_bomb(git_repo, levels=8, at="products/vendor", files=files)
    narrow = DescriptorSettings(patterns=("catalog-info.yaml",))
    result = scan_within(git_repo, budget(entries=100), narrow)
    assert list(by_path(result)) == [
        "catalog-info.yaml",
        "teams/payments.yaml",
        "products/a.yaml",
        "products/b.yaml",
        "shared/deep/lib.yaml",
    ]
    [error] = [m for m in messages(by_path(result)["catalog-info.yaml"]) if ": error: " in m]
    assert "'./gone.yaml' (gone.yaml) is not a file of this repository" in error


def test_previous_descriptors_that_still_exist_are_told_apart_from_deleted_ones(git_repo: GitRepo) -> None:
    git_repo.commit("x", files={"catalog-info.yaml": product("a"), "lost/b.yaml": product("b")})
    previous = {"lost/b.yaml": "0" * 40, "deleted/c.yaml": "1" * 40, "catalog-info.yaml": "2" * 40}
    with GitSnapshot(git_repo.git_dir, git_repo.head(), "main") as snapshot:
        result = scan(snapshot, DescriptorSettings(), DEFAULT_FACT_PATHS, previous_blobs=previous, now=NOW)
    assert result.still_present == ["lost/b.yaml"]


def test_files_directly_inside_a_fact_folder_are_recorded_and_deeper_ones_are_not(git_repo: GitRepo) -> None:
    git_repo.commit(
        "docs",
        files={
            "docs/index.md": "# x\n",
            "docs/security.md": "s\n",
            "docs/guide/deep.md": "d\n",
            "src/a.py": "",
        },
    )
    snapshot = GitSnapshot(git_repo.git_dir, git_repo.head(), "main")
    with snapshot:
        facts = scan(snapshot, DescriptorSettings(), ["docs/", "README.md"], now=NOW).facts
    assert facts.paths_present == {
        "docs/": True,
        "docs/index.md": True,
        "docs/security.md": True,
        "README.md": False,
    }
