"""``git`` measures from a real repository's release tags and commits, as the scan lists them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from catalog_sync.config import DescriptorSettings
from catalog_sync.errors import MeasureError
from catalog_sync.kpis.gitmeasures import measure_git
from catalog_sync.scanner import RepoFacts, scan
from catalog_sync.sources.gitread import GitSnapshot
from tests.fixtures.gitrepos import GitRepo

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MONTH = timedelta(days=30)


def _days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def _facts(repo: GitRepo, pattern: str | None = "v*") -> dict[str, Any]:
    with GitSnapshot(repo.git_dir, repo.head(), "main") as snapshot:
        result = scan(snapshot, DescriptorSettings(), [], now=NOW, release_tag_pattern=pattern)
    return result.facts.to_dict()


@pytest.fixture
def released(git_repo: GitRepo) -> GitRepo:
    """Two releases in the last 40 days (one annotated), a build tag that is no release, and work
    after the last release."""
    git_repo.commit("a", files={"a": "1"}, when=_days_ago(40))
    git_repo.commit("b", files={"a": "2"}, when=_days_ago(36))
    git_repo.git("tag", "v1.0")  # released at day 36: a (4 days waiting) and b (0)
    git_repo.commit("c", files={"a": "3"}, when=_days_ago(20))
    git_repo.commit("d", files={"a": "4"}, when=_days_ago(15))
    git_repo.git("tag", "build-77")
    git_repo.commit("e", files={"a": "5"}, when=_days_ago(10))
    git_repo.git("tag", "-a", "v1.1", "-m", "release 1.1")  # annotated: c (10 days), d (5), e (0)
    git_repo.commit("f", files={"a": "6"}, when=_days_ago(2))  # not released yet
    return git_repo


def test_release_tags_of_the_branch_are_listed_with_the_changes_they_shipped(released: GitRepo) -> None:
    facts = _facts(released)
    assert [(r["tag"], r["changes"]) for r in facts["releases"]] == [("v1.0", 2), ("v1.1", 3)]
    assert facts["releases"][1]["lead_seconds"] == pytest.approx(15 * 86400)
    assert RepoFacts.from_dict(facts).to_dict() == facts


def test_release_frequency_counts_the_window_s_releases(released: GitRepo) -> None:
    facts = _facts(released)
    assert measure_git("release-frequency", facts, MONTH, NOW) == 1
    assert measure_git("release-frequency", facts, timedelta(days=60), NOW) == 2
    assert measure_git("release-frequency", facts, timedelta(days=5), NOW) == 0


def test_lead_time_is_the_average_days_from_commit_to_release(released: GitRepo) -> None:
    facts = _facts(released)
    assert measure_git("lead-time-for-changes", facts, MONTH, NOW) == pytest.approx(5.0)
    assert measure_git("lead-time-for-changes", facts, timedelta(days=60), NOW) == pytest.approx(19 / 5)
    with pytest.raises(MeasureError, match="no change was released within the window"):
        measure_git("lead-time-for-changes", facts, timedelta(days=5), NOW)


def test_change_frequency_counts_commits_on_the_branch(released: GitRepo) -> None:
    facts = _facts(released)
    assert measure_git("change-frequency", facts, MONTH, NOW) == 4
    assert measure_git("change-frequency", facts, timedelta(days=7), NOW) == 1


def test_another_tag_pattern_finds_other_releases(released: GitRepo) -> None:
    facts = _facts(released, "build-*")
    assert [r["tag"] for r in facts["releases"]] == ["build-77"]
    assert _facts(released, None)["releases"] == []


def test_a_tag_on_another_branch_is_no_release_of_this_one(git_repo: GitRepo) -> None:
    git_repo.commit("a", files={"a": "1"}, when=_days_ago(10))
    git_repo.branch("feature")
    git_repo.commit("f", files={"a": "f"}, when=_days_ago(5))
    git_repo.git("tag", "v9.0")
    git_repo.checkout("main")
    assert _facts(git_repo)["releases"] == []


@pytest.mark.parametrize(
    ("facts", "window", "reason"),
    [
        (None, MONTH, "has not been read yet"),
        ({"releases": []}, timedelta(days=91), "look back 90 days at most"),
        ({}, MONTH, "before releases were listed"),
    ],
)
def test_a_git_measure_without_what_it_needs_says_why(
    facts: dict[str, Any] | None, window: timedelta, reason: str
) -> None:
    with pytest.raises(MeasureError, match=reason):
        measure_git("release-frequency", facts, window, NOW)


def test_a_window_longer_than_the_commits_counted_is_unknown_not_short() -> None:
    busy = {
        "history_truncated": True,
        "commits_by_day": {_days_ago(day).date().isoformat(): 100 for day in range(10)},
        "releases": [],
    }
    with pytest.raises(MeasureError, match="more than 1000 commits in the window"):
        measure_git("change-frequency", busy, MONTH, NOW)
    with pytest.raises(MeasureError, match="back to"):
        measure_git("release-frequency", busy, MONTH, NOW)
    assert measure_git("change-frequency", busy, timedelta(days=5), NOW) == 600  # whole days: 27 May on
