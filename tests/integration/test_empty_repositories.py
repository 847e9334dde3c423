"""Empty repositories (created, never pushed) on a local GitHub and GitLab, through the real engine on
SQLite and PostgreSQL: an organisation makes them every day, so each is listed and read as holding
nothing, without failing, alerting or costing a request per pass, and is read at its first push."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_sync.sync import PassSummary
from tests.fixtures.fakegithub import FakeGitHub, FakeRepo, serving_orgs
from tests.fixtures.fakegithubstate import Fault
from tests.fixtures.fakegitlab import FakeGitLab, FakeProject
from tests.fixtures.gitrepos import run_git
from tests.fixtures.hosted import body_of, github_headers, github_push, gitlab_headers, gitlab_push
from tests.fixtures.syncstore import sync_store
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_source import TOKEN, TOKEN_ENV, use_github
from tests.integration.test_gitlab_sync import configure as use_gitlab
from tests.integration.webhooks.conftest import LAB_TOKEN, SECRET
from tests.integration.webhooks.test_push_order import webhook_client


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(tmp_path / "hub", monkeypatch, (TOKEN_ENV, TOKEN), "acme") as hub:
        yield hub


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


def deliver_github_push(catalog: Catalog, hub: FakeGitHub, repo: FakeRepo, sha: str) -> None:
    """GitHub's push of ``sha`` to ``repo``, answered by the catalog's API."""
    client = webhook_client(catalog, {"CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": SECRET})
    document = github_push(repo.id, after=sha, netloc=f"127.0.0.1:{hub.port}", name=repo.full_name)
    body = body_of(document)
    answer = client.post("/api/webhooks/github", data=body, headers=github_headers(SECRET, body, "push"))
    assert answer.get_json()["accepted"] is True


def deliver_gitlab_push(catalog: Catalog, gitlab: FakeGitLab, project: FakeProject, sha: str) -> None:
    """GitLab's push of ``sha`` to ``project``, answered by the catalog's API."""
    client = webhook_client(catalog, {"CATALOG_SYNC_GITLAB_WEBHOOK_TOKENS": LAB_TOKEN})
    document = gitlab_push(project.id, after=sha, path=project.path_with_namespace)
    document["project"]["web_url"] = f"{gitlab.origin}/{project.path_with_namespace}"
    answer = client.post(
        "/api/webhooks/gitlab", data=body_of(document), headers=gitlab_headers(LAB_TOKEN, "Push Hook")
    )
    assert answer.get_json()["accepted"] is True


def read_then_refreshed(catalog: Catalog, name: str, sha: str) -> PassSummary:
    """The pass that reads the push at ``sha``, then ``POST /refresh`` (or a rule change) and the pass
    after it, both before the source's next listing; answers that last pass."""
    catalog.clock.advance(seconds=5)  # the delivery's arrival is the API's wall time
    catalog.sync(everything=False)  # read at the push; the listing is the one before it
    assert catalog.repository(name)["last_commit"] == sha
    assert sync_store(catalog.engine).make_due(catalog.repository(name)["id"], now=catalog.clock())
    return catalog.sync(everything=False)


def test_an_empty_github_repository_read_at_its_first_push_then_refreshed_before_a_listing_keeps_it(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    fresh = hub.add_repo("acme", "fresh")
    use_github(catalog, hub)
    catalog.sync()
    sha = hub.push(fresh, {"catalog-info.yaml": product_yaml("fresh")})
    deliver_github_push(catalog, hub, fresh, sha)

    summary = read_then_refreshed(catalog, "acme/fresh", sha)

    assert summary.errors == 0
    row = catalog.repository("acme/fresh")
    assert (row["state"], row["last_error"], row["last_commit"]) == ("ok", None, sha)


def test_an_empty_gitlab_project_read_at_its_first_push_then_refreshed_before_a_listing_keeps_it(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    fresh = gitlab.add_project("acme", "fresh", empty=True)
    use_gitlab(catalog, gitlab)
    catalog.sync()
    sha = gitlab.push(fresh, {"catalog-info.yaml": product_yaml("fresh")})
    deliver_gitlab_push(catalog, gitlab, fresh, sha)

    summary = read_then_refreshed(catalog, "acme/fresh", sha)

    assert summary.errors == 0
    row = catalog.repository("acme/fresh")
    assert (row["state"], row["last_error"], row["last_commit"]) == ("ok", None, sha)


def test_a_github_repository_read_at_a_push_then_refreshed_before_a_listing_is_not_read_back(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub)
    catalog.sync()
    sha = hub.push(pay, {"catalog-info.yaml": product_yaml("pay", lifecycle="retired")})
    deliver_github_push(catalog, hub, pay, sha)

    read_then_refreshed(catalog, "acme/pay", sha)

    assert catalog.repository("acme/pay")["last_commit"] == sha
    entity = catalog.entity("product:default/pay")
    assert entity is not None
    assert entity["body"]["spec"]["lifecycle"] == "retired"


def test_a_github_branch_read_before_that_answered_404_once_is_asked_again_and_read(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub)
    catalog.sync()
    sha = hub.push(pay, {"catalog-info.yaml": product_yaml("pay", lifecycle="retired")})
    hub.fail(Fault(404, "/branches/main", {}, "Branch not found", times=1))  # a host's passing lapse
    assert catalog.sync().errors == 1

    assert catalog.sync().errors == 0  # pushed_at has not moved since: the branch is asked again

    row = catalog.repository("acme/pay")
    assert (row["state"], row["last_error"], row["last_commit"]) == ("ok", None, sha)


def test_a_push_read_under_a_newer_listing_leaves_the_branch_asked_so_a_lost_later_push_is_read(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub)
    catalog.sync()
    older = hub.push(pay, {"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})
    newer = hub.push(pay, {"catalog-info.yaml": product_yaml("pay", lifecycle="retired")})
    deliver_github_push(catalog, hub, pay, older)  # the newer push's delivery never arrives
    catalog.clock.advance(seconds=5)
    catalog.sync()  # listed after both pushes; the push is read at the commit it names
    assert catalog.repository("acme/pay")["last_commit"] == older

    catalog.sync()  # the backstop: the branch is asked, its tip read

    assert catalog.repository("acme/pay")["last_commit"] == newer


def test_a_gitlab_project_read_at_a_push_then_refreshed_before_a_listing_is_not_read_back(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    pay = gitlab.add_project("acme", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    use_gitlab(catalog, gitlab)
    catalog.sync()
    sha = gitlab.push(pay, {"catalog-info.yaml": product_yaml("pay", lifecycle="retired")})
    deliver_gitlab_push(catalog, gitlab, pay, sha)

    read_then_refreshed(catalog, "acme/pay", sha)

    assert catalog.repository("acme/pay")["last_commit"] == sha
