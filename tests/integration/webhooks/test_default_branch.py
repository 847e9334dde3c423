"""A push to a GitHub repository's default branch when that default changed since the listing: the
first push to an empty repository (GitHub makes its branch the default) or a renamed default branch.
The catalog stores the branch the listing named, so the push asks its source to list at once, and the
next pass reads the new branch, instead of ignoring the push until ``sync.interval_seconds``. Run with
the real ``github`` source against the local GitHub, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.fakegithub import FakeGitHub, FakeRepo, serving_orgs
from tests.fixtures.gitrepos import GitRemote
from tests.fixtures.hosted import body_of, github_headers, github_push
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_source import TOKEN, TOKEN_ENV, use_github
from tests.integration.webhooks.conftest import SECRET
from tests.integration.webhooks.test_push_order import webhook_client


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
