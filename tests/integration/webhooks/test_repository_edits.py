"""A repository whose default branch or topics changed since its source's last listing: the
first push to an empty repository (GitHub makes its branch the default), a renamed default branch, a
default branch or topics edited in the repository's settings (GitHub's ``repository`` ``edited``), a
GitLab project archived or given topics (the system hook's ``project_update``). The catalog
stores the branch the listing named and what the filters judged, so the delivery asks the sources to
list at once and the next pass reads the new branch or applies the new verdict, instead of waiting for
``sync.interval_seconds``. Run with the real ``github`` and ``gitlab`` sources against the local
hosts, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.fixtures.fakegithub import FakeGitHub, FakeRepo, serving_orgs
from tests.fixtures.fakegitlab import FakeGitLab, FakeProject
from tests.fixtures.gitrepos import GitRemote
from tests.fixtures.hosted import (
    body_of,
    github_headers,
    github_push,
    github_repository_event,
    gitlab_headers,
    gitlab_project_event,
)
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_source import TOKEN, TOKEN_ENV, use_github
from tests.integration.webhooks.conftest import LAB_TOKEN, SECRET
from tests.integration.webhooks.test_push_order import use_gitlab, webhook_client


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(tmp_path / "hub", monkeypatch, (TOKEN_ENV, TOKEN), "acme") as hub:
        yield hub


def push_to_new_default(catalog: Catalog, hub: FakeGitHub, repo: FakeRepo, branch: str) -> tuple[str, Any]:
    """Make ``branch`` the repository's default on the host, push a product to it and deliver the push
    as GitHub does (its ``repository.default_branch`` is the new one); answers the commit and answer."""
    repo.default_branch = branch
    assert isinstance(repo.remote, GitRemote)
    repo.remote.work.git("checkout", "--quiet", "-B", branch)
    sha = hub.push(repo, {"catalog-info.yaml": product_yaml("fresh", description=f"on {branch}")})
    document = github_push(
        repo.id, after=sha, ref=f"refs/heads/{branch}", netloc=hub.netloc, name=repo.full_name
    )
    document["repository"]["default_branch"] = branch
    body = body_of(document)
    client = webhook_client(catalog, {"CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": SECRET})
    answer = client.post("/api/webhooks/github", data=body, headers=github_headers(SECRET, body, "push"))
    assert answer.status_code == 202
    return sha, answer.get_json()


@pytest.mark.parametrize("files", [None, {"README.md": "# fresh\n"}], ids=["empty", "renamed-default"])
def test_a_push_to_a_default_branch_changed_since_the_listing_lists_the_source_and_is_read(
    catalog: Catalog, hub: FakeGitHub, files: dict[str, str] | None
) -> None:
    fresh = hub.add_repo("acme", "fresh", files, default_branch="master")
    use_github(catalog, hub)
    catalog.sync()

    sha, answer = push_to_new_default(catalog, hub, fresh, "main")
    catalog.sync(everything=False)

    assert answer == {"accepted": True, "repositories": [], "listing": ["acme"]}
    row = catalog.repository("acme/fresh")
    assert (row["branch"], row["last_commit"], row["state"]) == ("main", sha, "ok")
    assert catalog.entity("product:default/fresh")["body"]["metadata"]["description"] == "on main"  # type: ignore[index]


def test_a_push_to_another_branch_than_the_default_still_asks_for_no_listing(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.add_repo("acme", "fresh", {"README.md": "# fresh\n"})
    use_github(catalog, hub)
    catalog.sync()
    document = github_push(
        1001, after="a" * 40, ref="refs/heads/feature", netloc=hub.netloc, name="acme/fresh"
    )
    body = body_of(document)
    client = webhook_client(catalog, {"CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": SECRET})

    answer = client.post("/api/webhooks/github", data=body, headers=github_headers(SECRET, body, "push"))

    assert answer.get_json() == {"ignored": "the push is to branch 'feature'; the catalog reads main"}


def edited(catalog: Catalog, hub: FakeGitHub, repo: FakeRepo, **changes: Any) -> Any:
    """GitHub's ``repository`` ``edited`` event for ``repo`` as the host now has it; answers the answer."""
    document = github_repository_event(repo.id, "edited", name=repo.full_name, changes=changes)
    document["repository"] |= {
        "url": f"{hub.api_url}/repos/{repo.full_name}",
        "default_branch": repo.default_branch,
        "topics": repo.topics,
    }
    body = body_of(document)
    client = webhook_client(catalog, {"CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": SECRET})
    answer = client.post(
        "/api/webhooks/github", data=body, headers=github_headers(SECRET, body, "repository")
    )
    assert answer.status_code == 202
    return answer.get_json()


def test_a_default_branch_changed_in_the_settings_is_read_at_once(catalog: Catalog, hub: FakeGitHub) -> None:
    fresh = hub.add_repo(
        "acme", "fresh", {"catalog-info.yaml": product_yaml("fresh")}, default_branch="master"
    )
    use_github(catalog, hub)
    catalog.sync()
    assert isinstance(fresh.remote, GitRemote)
    fresh.remote.work.git("checkout", "--quiet", "-B", "develop")
    fresh.default_branch = "develop"
    sha = hub.push(fresh, {"catalog-info.yaml": product_yaml("fresh", description="on develop")})

    answer = edited(catalog, hub, fresh, default_branch={"from": "master"})
    catalog.sync(everything=False)

    assert answer["listing"] == ["acme"]
    assert catalog.repository("acme/fresh")["last_commit"] == sha
    assert catalog.entity("product:default/fresh")["body"]["metadata"]["description"] == "on develop"  # type: ignore[index]


def test_topics_edited_into_a_filters_reach_list_the_repository_at_once(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    tools = hub.add_repo("acme", "tools", {"catalog-info.yaml": product_yaml("tools")})
    use_github(catalog, hub, topics={"include": ["catalog"]})
    catalog.sync()
    assert catalog.entity("product:default/tools") is None
    tools.topics = ["catalog"]

    answer = edited(catalog, hub, tools, topics={"from": []})
    catalog.sync(everything=False)

    assert answer == {"accepted": True, "repositories": [], "listing": ["acme"]}
    assert catalog.entity("product:default/tools") is not None


def test_topics_edited_out_of_a_filters_reach_count_a_missed_listing_at_once(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    tools = hub.add_repo("acme", "tools", {"catalog-info.yaml": product_yaml("tools")}, topics=["catalog"])
    for name in ("pay", "ledger"):  # so that one leaving is no sudden loss of the source's repositories
        hub.add_repo("acme", name, {"catalog-info.yaml": product_yaml(name)}, topics=["catalog"])
    use_github(catalog, hub, topics={"include": ["catalog"]})
    catalog.sync()
    assert catalog.entity("product:default/tools") is not None
    tools.topics = []

    answer = edited(catalog, hub, tools, topics={"from": ["catalog"]})
    catalog.sync(everything=False)

    assert answer["listing"] == ["acme"]
    # Left out by the filters as by a listing that missed it: removed at the second listing in a row,
    # under the guard against a mistyped filter (``sync.max_removal_fraction``).
    assert catalog.repository("acme/tools")["missed_listings"] == 1
    catalog.sync()
    assert catalog.repository("acme/tools")["removed_at"] is not None


def test_an_edit_of_the_description_changes_nothing(catalog: Catalog, hub: FakeGitHub) -> None:
    tools = hub.add_repo("acme", "tools", {"catalog-info.yaml": product_yaml("tools")})
    use_github(catalog, hub)
    catalog.sync()

    answer = edited(catalog, hub, tools, description={"from": "old"})

    assert "ignored" in answer


def project_updated(client: FlaskClient, gitlab: FakeGitLab, project: FakeProject) -> Any:
    """The system hook's ``project_update`` for ``project``; answers the catalog's answer."""
    body = body_of(gitlab_project_event("project_update", project.id, project.path_with_namespace))
    headers = gitlab_headers(LAB_TOKEN, "System Hook") | {"X-Gitlab-Instance": gitlab.origin}
    answer = client.post("/api/webhooks/gitlab", data=body, headers=headers)
    assert answer.status_code == 202
    return answer.get_json()


def test_a_gitlab_project_archived_has_its_entities_orphaned_at_once(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    for name in ("pay", "ledger"):
        gitlab.add_project("acme", name, files={"catalog-info.yaml": product_yaml(name)})
    tools = gitlab.add_project("acme", "tools", files={"catalog-info.yaml": product_yaml("tools")})
    client = use_gitlab(catalog, gitlab)
    catalog.sync()
    gitlab.archive(tools)

    answer = project_updated(client, gitlab, tools)
    catalog.sync(everything=False)

    assert answer["listing"] == ["acme-gl"]
    assert catalog.repository("acme/tools")["removed_at"] is not None
    assert catalog.entity("product:default/tools")["orphaned_at"] is not None  # type: ignore[index]


def test_a_gitlab_project_given_a_topic_a_filter_asks_for_is_listed_at_once(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    tools = gitlab.add_project("acme", "tools", files={"catalog-info.yaml": product_yaml("tools")})
    client = use_gitlab(catalog, gitlab)
    catalog.config["sources"][0]["topics"] = {"include": ["catalog"]}
    catalog.reset_engine()
    catalog.sync()
    assert catalog.entity("product:default/tools") is None
    tools.topics = ["catalog"]

    answer = project_updated(client, gitlab, tools)
    catalog.sync(everything=False)

    assert answer == {"accepted": True, "repositories": [], "listing": ["acme-gl"]}
    assert catalog.entity("product:default/tools") is not None
