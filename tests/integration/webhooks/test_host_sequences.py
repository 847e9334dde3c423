"""Sequences of events GitHub and GitLab emit over a repository's life (archived then unarchived,
transferred in, a default branch changed), sent to the real sources against the local hosts, on
SQLite and PostgreSQL: what the catalog shows after each is what the host shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.fixtures.fakegithub import FakeGitHub, FakeRepo, serving_orgs
from tests.fixtures.hosted import body_of, github_headers, github_push, github_repository_event
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_source import TOKEN, TOKEN_ENV, use_github
from tests.integration.webhooks.conftest import SECRET
from tests.integration.webhooks.test_push_order import webhook_client


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(tmp_path / "hub", monkeypatch, (TOKEN_ENV, TOKEN), "acme", "beta") as hub:
        yield hub


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


def test_a_repository_unarchived_after_a_listing_saw_it_archived_is_read_at_once(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub)
    catalog.sync()
    client = webhook_client(catalog, {"CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": SECRET})
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
