"""Sequences of events GitHub and GitLab emit over a repository's life (archived then unarchived,
renamed, a default branch changed), sent to the real sources against the local hosts, on
SQLite and PostgreSQL: what the catalog shows after each is what the host shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from catalog_sync.sources.base import Repository
from catalog_sync.sources.github import GitHubSource
from catalog_sync.store.tables import sources
from tests.fixtures.fakegithub import FakeGitHub, FakeRepo, serving_orgs
from tests.fixtures.fakegitlab import FakeGitLab, FakeProject
from tests.fixtures.gitrepos import GitRemote
from tests.fixtures.hosted import (
    body_of,
    github_headers,
    github_push,
    github_repository_event,
    gitlab_headers,
    gitlab_push,
)
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_source import TOKEN, TOKEN_ENV, use_github
from tests.integration.test_gitlab_sync import configure as use_gitlab
from tests.integration.webhooks.conftest import LAB_TOKEN, SECRET
from tests.integration.webhooks.test_push_order import webhook_client


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(tmp_path / "hub", monkeypatch, (TOKEN_ENV, TOKEN), "acme", "beta") as hub:
        yield hub


def to_gitlab(client: FlaskClient, document: dict[str, Any], event: str = "Push Hook") -> dict[str, Any]:
    answer = client.post(
        "/api/webhooks/gitlab", data=body_of(document), headers=gitlab_headers(LAB_TOKEN, event)
    )
    assert answer.status_code in (200, 202), answer.get_json()
    result: dict[str, Any] = answer.get_json()
    return result


def gitlab_pushed(gitlab: FakeGitLab, project: FakeProject, after: str, branch: str) -> dict[str, Any]:
    """A ``Push Hook`` of the local GitLab to ``branch``, naming the project's default branch now."""
    document = gitlab_push(
        project.id, after=after, ref=f"refs/heads/{branch}", path=project.path_with_namespace
    )
    document["project"] |= {
        "web_url": f"{gitlab.origin}/{project.path_with_namespace}",
        "default_branch": project.default_branch,
    }
    return document


def to_github(client: FlaskClient, document: dict[str, Any], event: str) -> dict[str, Any]:
    body = body_of(document)
    answer = client.post("/api/webhooks/github", data=body, headers=github_headers(SECRET, body, event))
    assert answer.status_code in (200, 202), answer.get_json()
    result: dict[str, Any] = answer.get_json()
    return result


def repository_event(hub: FakeGitHub, repo: FakeRepo, action: str, **changes: Any) -> dict[str, Any]:
    """A ``repository`` event of the local GitHub, as it shows the repository now."""
    document = github_repository_event(repo.id, action, name=repo.full_name, changes=changes or None)
    document["repository"] |= hub.repo_json(repo)
    return document


def push(hub: FakeGitHub, repo: FakeRepo, after: str) -> dict[str, Any]:
    document = github_push(
        repo.id, after=after, ref=f"refs/heads/{repo.default_branch}", netloc=hub.netloc, name=repo.full_name
    )
    document["repository"]["default_branch"] = repo.default_branch
    return document


def lifecycle(catalog: Catalog, name: str) -> tuple[str, bool]:
    entity = catalog.entity(f"product:default/{name}")
    assert entity is not None
    annotations = entity["body"]["metadata"].get("annotations", {})
    return str(entity["body"]["spec"]["lifecycle"]), annotations.get("backstage.io/orphan") == "true"


def read_pay(catalog: Catalog, hub: FakeGitHub) -> tuple[FakeRepo, FlaskClient]:
    """``acme/pay`` listed and read once by a github source; answers it and the webhook client."""
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub)
    catalog.sync()
    return pay, webhook_client(catalog, {"CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": SECRET})


def test_a_repository_unarchived_after_a_listing_saw_it_archived_is_read_at_once(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay, client = read_pay(catalog, hub)
    hub.archive(pay)
    assert to_github(client, repository_event(hub, pay, "archived"), "repository")["accepted"] is True
    catalog.sync()  # the listing at its interval sees it archived
    assert lifecycle(catalog, "pay") == ("production", True)

    hub.archive(pay, archived=False)
    assert to_github(client, repository_event(hub, pay, "unarchived"), "repository")["accepted"] is True
    catalog.clock.advance(seconds=5)  # the delivery's arrival is the API's wall time
    catalog.sync(everything=False)  # the worker loop's next pass, before the next interval

    row = catalog.repository("acme/pay")
    assert (row["state"], row["last_error"], row["removed_at"]) == ("ok", None, None)
    assert lifecycle(catalog, "pay") == ("production", False)


def test_a_push_to_a_default_branch_changed_since_the_listing_is_read_and_the_old_one_ignored(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay, client = read_pay(catalog, hub)
    remote = pay.remote
    assert isinstance(remote, GitRemote)
    remote.work.git("checkout", "--quiet", "-b", "develop")
    with hub.lock:
        pay.default_branch = "develop"  # changed in the repository's settings
    after = hub.push(pay, {"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})

    answer = to_github(client, push(hub, pay, after), "push")
    assert answer["accepted"] is True, answer
    catalog.clock.advance(seconds=5)
    catalog.sync(everything=False)  # before the next listing
    assert lifecycle(catalog, "pay") == ("deprecated", False)

    remote.work.git("checkout", "--quiet", "main")
    old = remote.publish({"catalog-info.yaml": product_yaml("pay", lifecycle="retired")}, branch="main")
    to_main = push(hub, pay, old) | {"ref": "refs/heads/main"}
    assert "develop" in to_github(client, to_main, "push")["ignored"]
    catalog.clock.advance(seconds=5)
    catalog.sync(everything=False)
    assert lifecycle(catalog, "pay") == ("deprecated", False)
    catalog.sync()  # the next listing names the new default branch
    assert catalog.repository("acme/pay")["branch"] == "develop"
    assert lifecycle(catalog, "pay") == ("deprecated", False)


def test_a_gitlab_push_to_a_default_branch_changed_since_the_listing_is_read_and_the_old_one_ignored(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    ledger = gitlab.add_project("acme", "ledger", files={"catalog-info.yaml": product_yaml("ledger")})
    use_gitlab(catalog, gitlab)
    catalog.sync()
    client = webhook_client(catalog, {"CATALOG_SYNC_GITLAB_WEBHOOK_TOKENS": LAB_TOKEN})
    ledger.remote.work.git("checkout", "--quiet", "-b", "develop")
    with gitlab.lock:
        ledger.default_branch = "develop"
    after = gitlab.push(ledger, {"catalog-info.yaml": product_yaml("ledger", lifecycle="deprecated")})

    answer = to_gitlab(client, gitlab_pushed(gitlab, ledger, after, "develop"))
    assert answer["accepted"] is True, answer
    catalog.clock.advance(seconds=5)
    catalog.sync(everything=False)
    assert lifecycle(catalog, "ledger") == ("deprecated", False)

    ledger.remote.work.git("checkout", "--quiet", "main")
    old = ledger.remote.publish(
        {"catalog-info.yaml": product_yaml("ledger", lifecycle="retired")}, branch="main"
    )
    assert "develop" in to_gitlab(client, gitlab_pushed(gitlab, ledger, old, "main"))["ignored"]
    catalog.sync()
    assert catalog.repository("acme/ledger")["branch"] == "develop"
    assert lifecycle(catalog, "ledger") == ("deprecated", False)


def renamed_pay(catalog: Catalog, hub: FakeGitHub, announced: bool) -> tuple[FakeRepo, FlaskClient]:
    """``acme/pay`` read once, then renamed ``payments`` on the host (its old name answers 301, as on
    GitHub), the rename delivered when ``announced``; answers the repository and the webhook client."""
    pay, client = read_pay(catalog, hub)
    hub.rename(pay, "payments")
    if announced:
        renamed = repository_event(hub, pay, "renamed", repository={"name": {"from": "pay"}})
        assert to_github(client, renamed, "repository")["listing"] == ["acme"]
    return pay, client


@pytest.mark.parametrize("announced", [True, False], ids=["renamed-event", "push-only"])
def test_a_push_to_a_repository_renamed_since_the_listing_is_read(
    catalog: Catalog, hub: FakeGitHub, announced: bool
) -> None:
    pay, client = renamed_pay(catalog, hub, announced)
    uid = catalog.entity("product:default/pay")["uid"]  # type: ignore[index]
    after = hub.push(pay, {"catalog-info.yaml": product_yaml("pay", lifecycle="deprecated")})

    assert to_github(client, push(hub, pay, after), "push")["accepted"] is True
    catalog.clock.advance(seconds=5)
    catalog.sync(everything=False)  # read through the listing that still names acme/pay
    assert lifecycle(catalog, "pay") == ("deprecated", False)
    assert catalog.entity("product:default/pay")["uid"] == uid  # type: ignore[index]
    catalog.sync()
    assert catalog.repository("acme/payments")["last_error"] is None


@pytest.mark.parametrize("announced", [True, False], ids=["renamed-event", "listing-only"])
def test_a_renamed_repositorys_entities_name_their_new_location_without_a_new_commit(
    catalog: Catalog, hub: FakeGitHub, announced: bool
) -> None:
    renamed_pay(catalog, hub, announced)
    if announced:
        catalog.clock.advance(seconds=5)
        catalog.sync(everything=False)
    catalog.sync()  # the listing at its interval

    entity = catalog.entity("product:default/pay")
    assert entity is not None
    location = entity["body"]["metadata"]["annotations"]["backstage.io/managed-by-location"]
    assert location == f"url:{hub.origin}/acme/payments/blob/main/catalog-info.yaml"


@pytest.mark.parametrize("first", ["acme", "beta"], ids=["new-owner-first", "old-owner-first"])
def test_a_repository_transferred_to_another_configured_owner_is_taken_over_at_once(
    catalog: Catalog, hub: FakeGitHub, first: str
) -> None:
    tools = hub.add_repo("beta", "tools", {"catalog-info.yaml": product_yaml("tools")})
    beta = {"name": "beta", "type": "github", "org": "beta", "api_url": hub.api_url}
    use_github(catalog, hub, beta | {"auth": {"token_env": TOKEN_ENV}})
    if first == "beta":
        catalog.config = catalog.config | {"sources": catalog.config["sources"][::-1]}
        catalog.reset_engine()
    catalog.sync()
    uid = catalog.entity("product:default/tools")["uid"]  # type: ignore[index]
    client = webhook_client(catalog, {"CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": SECRET})

    hub.transfer(tools, "acme")
    moved = repository_event(hub, tools, "transferred", owner={"from": {"organization": {"login": "beta"}}})
    assert to_github(client, moved, "repository") == {
        "accepted": True,
        "repositories": [catalog.repository("acme/tools")["id"]],
        "listing": ["acme", "beta"],
    }
    catalog.clock.advance(seconds=5)
    catalog.sync(everything=False)  # the worker loop's next pass, before the next interval

    row = catalog.repository("acme/tools")
    with catalog.engine.connect() as conn:
        holder = conn.execute(select(sources.c.name).where(sources.c.id == row["source_id"])).scalar()
    assert (holder, row["state"], row["removed_at"], row["missed_listings"]) == ("acme", "ok", None, 0)
    assert lifecycle(catalog, "tools") == ("production", False)
    catalog.sync()  # its read, due at its interval, names the new location
    entity = catalog.entity("product:default/tools")
    assert entity is not None
    assert entity["uid"] == uid
    location = entity["body"]["metadata"]["annotations"]["backstage.io/managed-by-location"]
    assert location == f"url:{hub.origin}/acme/tools/blob/main/catalog-info.yaml"


def test_a_repository_archived_while_its_source_is_listed_stays_removed(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    pay, client = read_pay(catalog, hub)
    listed_before = GitHubSource.discover
    answers: list[dict[str, Any]] = []

    def archived_meanwhile(source: GitHubSource) -> list[Repository]:
        """The host's pages are read before the repository is archived; the event is delivered while
        the listing is still to be recorded."""
        found = listed_before(source)
        if not answers:
            hub.archive(pay)
            answers.append(to_github(client, repository_event(hub, pay, "archived"), "repository"))
        return found

    monkeypatch.setattr(GitHubSource, "discover", archived_meanwhile)
    catalog.clock.advance(seconds=5)
    catalog.sync()  # the listing at its interval, under way when the event arrives

    assert answers[0]["accepted"] is True
    assert catalog.repository("acme/pay")["removed_at"] is not None
    assert lifecycle(catalog, "pay") == ("production", True)
