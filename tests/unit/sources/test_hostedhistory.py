"""Which hosted repositories have their history read (those whose descriptors name a ``git`` measure),
and what a scan of one whose history was not read says instead of counting its tip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalog_sync.config import DescriptorSettings
from catalog_sync.errors import MeasureError
from catalog_sync.kpis.gitmeasures import measure_git
from catalog_sync.scanner import scan
from catalog_sync.sources.gitread import GitSnapshot
from catalog_sync.sources.hostedhistory import (
    NOT_DECLARED,
    HistoricSnapshot,
    ReadHistory,
    declares_git_kpi,
    names_git_kpi,
)
from catalog_sync.sources.locations import descriptor_files, in_listing
from tests.fixtures.gitrepos import GitRepo

BLOCK = """\
kind: Product
metadata: {name: pay}
spec:
  kpis:
    - name: Changes
      measure:
        git: change-frequency
"""
JSON = '{"kind": "Product", "spec": {"kpis": [{"measure": {"git": "release-frequency"}}]}}'
PROMETHEUS_ONLY = """\
kind: Product
metadata: {name: pay, description: "releases are counted from git tags elsewhere"}
spec:
  kpis:
    - {name: Uptime, measure: {prometheus: 'up'}}
"""


LOCATION = """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: more}
spec:
  targets: [%s]
"""


class CountingSnapshot(GitSnapshot):
    """A snapshot that remembers which blobs were read, in order."""

    def __init__(self, git_dir: Path, commit: str) -> None:
        super().__init__(git_dir, commit, "main")
        self.reads: list[str] = []

    def read_blob(self, sha: str) -> bytes:
        self.reads.append(sha)
        return super().read_blob(sha)

    def paths_read(self) -> list[str]:
        by_sha = {e.sha: e.path for e in self.tree()}
        return [by_sha[sha] for sha in self.reads]


def _declares(repo: GitRepo, files: dict[str, str], *, read: list[str] | None = None) -> bool:
    """The answer for a commit of ``files``, which the API's way agrees with; ``read``: the files the
    check of a snapshot must read, each once, in order."""
    repo.commit("change", files=files)
    snapshot = CountingSnapshot(repo.git_dir, repo.head())
    with snapshot:
        declared = declares_git_kpi(snapshot, DescriptorSettings())
        if read is not None:
            assert snapshot.paths_read() == read
        # A github tip thread walks the listing it read and the blobs it fetched: the same answer.
        listing = snapshot.tree()
        first = [e for e in listing if e.path.endswith("catalog-info.yaml")]
        walk = descriptor_files(
            first, lambda e: snapshot.read_blob(e.sha), in_listing({e.path: e for e in listing}), 1 << 20
        )
        assert names_git_kpi([e for e, _ in walk], snapshot.read_blob) == declared
    return declared


@pytest.mark.parametrize(
    "files",
    [
        {"catalog-info.yaml": BLOCK},
        {"catalog-info.yaml": JSON},
        {"catalog-info.yaml": "spec: {kpis: [{measure: {git: lead-time-for-changes}}]}\n"},
    ],
)
def test_any_spelling_of_a_git_measure_asks_for_the_history(git_repo: GitRepo, files: dict[str, str]) -> None:
    assert _declares(git_repo, files)


def test_a_git_measure_outside_the_descriptor_files_asks_for_nothing(git_repo: GitRepo) -> None:
    assert not _declares(git_repo, {"docs/notes.yaml": BLOCK, "catalog-info.yaml": "kind: Product\n"})


def test_a_prometheus_measure_asks_for_nothing(git_repo: GitRepo) -> None:
    assert not _declares(git_repo, {"catalog-info.yaml": PROMETHEUS_ONLY})


def test_a_git_measure_in_a_file_a_location_names_asks_for_the_history(git_repo: GitRepo) -> None:
    files = {
        "catalog-info.yaml": LOCATION % "./services/payments.yaml",
        "services/payments.yaml": BLOCK,
        "services/other.yaml": BLOCK,  # named by nothing: never read
    }
    assert _declares(git_repo, files, read=["catalog-info.yaml", "services/payments.yaml"])


def test_a_location_glob_and_a_chain_of_locations_are_followed(git_repo: GitRepo) -> None:
    files = {
        "catalog-info.yaml": LOCATION % "'teams/*.yaml'",
        "teams/a.yaml": LOCATION % "../deep/more.yaml",
        "teams/b.yaml": PROMETHEUS_ONLY,
        "deep/more.yaml": JSON,
    }
    read = ["catalog-info.yaml", "teams/a.yaml", "teams/b.yaml", "deep/more.yaml"]
    assert _declares(git_repo, files, read=read)


def test_a_location_leaving_the_repository_makes_the_check_read_nothing_more(git_repo: GitRepo) -> None:
    targets = (
        "../services/payments.yaml, /services/payments.yaml, 'https://example.com/services/payments.yaml'"
    )
    files = {"catalog-info.yaml": LOCATION % targets, "services/payments.yaml": BLOCK}
    assert not _declares(git_repo, files, read=["catalog-info.yaml"])


def test_a_loop_of_locations_reads_each_file_once(git_repo: GitRepo) -> None:
    files = {
        "catalog-info.yaml": LOCATION % "./a.yaml, ./catalog-info.yaml",
        "a.yaml": LOCATION % "./b.yaml",
        "b.yaml": LOCATION % "./catalog-info.yaml, ../b.yaml, ./a.yaml",
    }
    assert not _declares(git_repo, files, read=["catalog-info.yaml", "a.yaml", "b.yaml"])


def test_a_hosted_tip_without_its_history_makes_git_kpis_unknown_with_the_reason(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    git_repo.commit("old", files={"a": "1"}, when=now - timedelta(days=5))
    git_repo.git("tag", "v1")
    git_repo.commit("tip", files={"catalog-info.yaml": BLOCK}, when=now - timedelta(days=1))
    clone = tmp_path / "clone"
    ReadHistory(git_repo.head(), None, (), NOT_DECLARED).save(clone)

    inner = GitSnapshot(git_repo.git_dir, git_repo.head(), "main")
    with HistoricSnapshot(inner, clone) as snapshot:
        facts = scan(snapshot, DescriptorSettings(), [], now=now, release_tag_pattern="v*").facts.to_dict()

    assert facts["history_gap"] == NOT_DECLARED
    with pytest.raises(MeasureError, match="only when its descriptors declare a git KPI"):
        measure_git("change-frequency", facts, timedelta(days=30), now)
