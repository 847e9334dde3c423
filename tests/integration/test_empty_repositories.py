"""Empty repositories (created, never pushed) on a local GitHub and GitLab, through the real engine on
SQLite and PostgreSQL: an organisation makes them every day, so each is listed and read as holding
nothing, without failing, alerting or costing a request per pass, and is read at its first push."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.fakegithub import FakeGitHub, serving_orgs
from tests.fixtures.fakegitlab import FakeGitLab, fake_gitlab
from tests.fixtures.gitrepos import run_git
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_source import TOKEN, TOKEN_ENV, use_github
from tests.integration.test_gitlab_sync import TOKEN as GITLAB_TOKEN
from tests.integration.test_gitlab_sync import configure as use_gitlab


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(tmp_path / "hub", monkeypatch, (TOKEN_ENV, TOKEN), "acme") as hub:
        yield hub


@pytest.fixture
def gitlab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    monkeypatch.setenv("GITLAB_TOKEN", GITLAB_TOKEN)
    with fake_gitlab(tmp_path / "gitlab", token=GITLAB_TOKEN) as fake:
        yield fake


def assert_read_and_empty(catalog: Catalog, name: str) -> None:
    """Listed, read as holding nothing: not failing, no error, no commit, no problem of its own."""
    row = catalog.repository(name)
    assert (row["state"], row["failures"], row["last_error"]) == ("ok", 0, None)
    assert row["last_commit"] is None
    assert row["last_success_at"] is not None
    assert [p for p in catalog.problems() if p["repository_id"] == row["id"]] == []


def test_an_empty_github_repository_is_read_as_empty_costs_nothing_more_and_is_read_at_its_first_push(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    fresh = hub.add_repo("acme", "fresh")  # no commit: GitHub still names a default branch
    use_github(catalog, hub)

    summary = catalog.sync()

    assert summary.errors == 0
    assert_read_and_empty(catalog, "acme/fresh")
    hub.clear()
    assert catalog.sync().errors == 0
    assert [s.path for s in hub.api_requests() if "/acme/fresh" in s.path] == []  # pushed_at did not move
    assert_read_and_empty(catalog, "acme/fresh")

    sha = hub.push(fresh, {"catalog-info.yaml": product_yaml("fresh")})
    catalog.sync()

    assert catalog.repository("acme/fresh")["last_commit"] == sha
    assert catalog.entity("product:default/fresh") is not None


def test_a_branch_the_configuration_names_that_a_github_repository_lacks_still_fails(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.add_repo("acme", "fresh")
    use_github(catalog, hub, branch="release")

    assert catalog.sync().errors == 1

    row = catalog.repository("acme/fresh")
    assert row["state"] == "failing"
    assert "branches/release: HTTP 404" in row["last_error"]


def test_a_github_branch_read_before_that_answers_no_commit_fails_and_keeps_its_entities(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub)
    catalog.sync()
    run_git("update-ref", "-d", "refs/heads/main", cwd=pay.remote.path)
    hub.touch(pay)  # pushed_at moves, so the tip is asked

    assert catalog.sync().errors == 1

    row = catalog.repository("acme/pay")
    assert row["state"] == "failing"
    assert "has no commit any more" in row["last_error"]
    entity = catalog.entity("product:default/pay")
    assert entity is not None
    assert entity["orphaned_at"] is None


def test_an_empty_gitlab_project_is_listed_read_as_empty_without_a_request_and_read_at_its_first_push(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    gitlab.add_project("acme", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    fresh = gitlab.add_project("acme", "fresh", empty=True)
    use_gitlab(catalog, gitlab)

    assert catalog.sync().errors == 0
    assert catalog.sync().errors == 0

    assert_read_and_empty(catalog, "acme/fresh")
    asked = [r.path for r in gitlab.api_requests() if f"/projects/{fresh.id}/" in r.path]
    assert asked == []
    assert [r.path for r in gitlab.requests if "/acme/fresh.git" in r.path] == []

    sha = gitlab.push(fresh, {"catalog-info.yaml": product_yaml("fresh")})
    catalog.sync()

    assert catalog.repository("acme/fresh")["last_commit"] == sha
    assert catalog.entity("product:default/fresh") is not None
