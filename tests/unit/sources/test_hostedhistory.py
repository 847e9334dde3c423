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


def _declares(repo: GitRepo, files: dict[str, str]) -> bool:
    repo.commit("change", files=files)
    with GitSnapshot(repo.git_dir, repo.head(), "main") as snapshot:
        declared = declares_git_kpi(snapshot, DescriptorSettings())
        # A github tip thread decides from the listing and the blobs it just read: the same answer.
        assert names_git_kpi(snapshot.tree(), snapshot.read_blob, DescriptorSettings()) == declared
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
