"""The first push to a repository created since the last listing (a template that brings its
``catalog-info.yaml``, say): the delivery asks the sources that would list the repository to list at
once, and the next pass lists it and reads it, instead of waiting for ``sync.interval_seconds``. Run
with the real ``github`` and ``gitlab`` sources against the local hosts, on SQLite and PostgreSQL, the
passes run as the worker loop runs them (not forced)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from catalog_sync.errors import SourceError
from catalog_sync.metrics.events import record_pass
from catalog_sync.store.tables import sources
from catalog_sync.sync import SyncEngine, discovery
from catalog_sync.sync.summary import PassSummary
from tests.fixtures.fakegithub import FakeGitHub, FakeRepo, Fault, serving_orgs
from tests.fixtures.fakegitlab import FakeGitLab
from tests.fixtures.hosted import (
    body_of,
    github_headers,
    github_push,
    github_repository_event,
    gitlab_headers,
    gitlab_project_event,
    gitlab_push,
)
from tests.fixtures.syncstore import sync_store
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_source import TOKEN, TOKEN_ENV, use_github
from tests.integration.webhooks.conftest import LAB_TOKEN, SECRET
from tests.integration.webhooks.test_push_order import configured_gitlab, use_gitlab, webhook_client

NEWCOMER_COUNT = "catalog_webhook_newcomer_visible_seconds_count"


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(tmp_path / "hub", monkeypatch, (TOKEN_ENV, TOKEN), "acme", "beta") as hub:
        yield hub


def synced(catalog: Catalog, hub: FakeGitHub, **keys: Any) -> FlaskClient:
    """The organisation ``acme`` listed and read once; answers the catalog's API."""
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub, **keys)
    catalog.sync()
    return webhook_client(catalog, {"CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS": SECRET})


def first_push(client: FlaskClient, hub: FakeGitHub, repo: FakeRepo, sha: str, **changes: Any) -> Any:
    """GitHub's push of ``sha`` to ``repo``'s default branch; answers the JSON answer."""
    document = github_push(repo.id, after=sha, netloc=f"127.0.0.1:{hub.port}", name=repo.full_name)
    document["repository"].update(changes)
    body = body_of(document)
    answer = client.post("/api/webhooks/github", data=body, headers=github_headers(SECRET, body, "push"))
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()


def repository_event(
    client: FlaskClient, hub: FakeGitHub, repo_id: int, action: str, name: str, **changes: Any
) -> Any:
    """GitHub's ``repository`` event ``action`` for the repository ``name`` of the local GitHub;
    answers the catalog's JSON answer."""
    document = github_repository_event(repo_id, action, name=name, changes=changes)
    document["repository"]["url"] = f"{hub.api_url}/repos/{name}"
    body = body_of(document)
    answer = client.post(
        "/api/webhooks/github", data=body, headers=github_headers(SECRET, body, "repository")
    )
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()


def shown_request(client: FlaskClient) -> Any:
    """``listingRequestedAt`` of the source ``acme`` as ``GET /api/sources`` shows it."""
    items = client.get("/api/sources").get_json()["items"]
    return next(item for item in items if item["name"] == "acme")["listingRequestedAt"]


def requested(catalog: Catalog, name: str) -> Any:
    with catalog.engine.connect() as conn:
        return conn.execute(select(sources.c.listing_requested_at).where(sources.c.name == name)).scalar()


def test_the_first_push_to_a_new_github_repository_lists_its_source_and_is_read_by_the_next_pass(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    client = synced(catalog, hub)
    fresh = hub.add_repo("acme", "fresh", {"catalog-info.yaml": product_yaml("fresh")})
    catalog.sync(everything=False)
    assert catalog.entity("product:default/fresh") is None  # the interval has not passed: not listed

    answer = first_push(client, hub, fresh, hub.push(fresh, {"README.md": "# fresh\n"}))
    summary = catalog.sync(everything=False)

    assert answer == {"accepted": True, "repositories": [], "listing": ["acme"]}
    assert [s["name"] for s in summary.sources] == ["acme"]
    assert catalog.entity("product:default/fresh") is not None
    assert requested(catalog, "acme") is None  # answered
    assert len(summary.newcomer_visible_seconds) == 1  # the push's own series stays for pushes read
    assert 0 < summary.newcomer_visible_seconds[0] < 60
    assert summary.push_visible_seconds == []
    before = newcomers_seen(client)  # the registry is the process's
    record_pass(summary)  # the hook the commands run after each pass
    assert newcomers_seen(client) == before + 1
    later = catalog.sync(everything=False)
    assert (later.sources, later.newcomer_visible_seconds) == ([], [])  # not listed again, nor counted


def newcomers_seen(client: FlaskClient) -> float:
    """``catalog_webhook_newcomer_visible_seconds_count`` as ``/metrics`` shows it (0 if absent)."""
    text = client.get("/metrics").get_data(as_text=True)
    counts = [line.split()[-1] for line in text.splitlines() if line.startswith(NEWCOMER_COUNT)]
    return float(counts[0]) if counts else 0.0


def test_a_repository_an_interval_listing_finds_is_no_newcomer_a_delivery_waited_for(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    synced(catalog, hub)
    hub.add_repo("acme", "fresh", {"catalog-info.yaml": product_yaml("fresh")})

    summary = catalog.sync()

    assert catalog.entity("product:default/fresh") is not None
    assert summary.newcomer_visible_seconds == []


def test_a_source_is_listed_for_pushes_at_most_once_per_relist_interval(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = synced(catalog, hub)
    first = hub.add_repo("acme", "first", {"catalog-info.yaml": product_yaml("first")})
    first_push(client, hub, first, hub.push(first, {"README.md": "# first\n"}))
    catalog.sync(everything=False)
    second = hub.add_repo("acme", "second", {"catalog-info.yaml": product_yaml("second")})
    first_push(client, hub, second, hub.push(second, {"README.md": "# second\n"}))

    waited = catalog.sync(everything=False)  # within RELIST_SECONDS of the listing just made

    assert waited.sources == []
    assert catalog.entity("product:default/second") is None
    assert shown_request(client) is not None  # kept for a later pass, and shown to operators
    monkeypatch.setattr(discovery, "RELIST_SECONDS", 0.0)  # as if the interval had passed
    catalog.sync(everything=False)
    assert catalog.entity("product:default/second") is not None
    assert shown_request(client) is None


def pushed_newcomer(catalog: Catalog, hub: FakeGitHub) -> FlaskClient:
    """``acme`` synced, then ``acme/fresh`` created and pushed to: its source is asked to list."""
    client = synced(catalog, hub)
    fresh = hub.add_repo("acme", "fresh", {"catalog-info.yaml": product_yaml("fresh")})
    first_push(client, hub, fresh, hub.push(fresh, {"README.md": "# fresh\n"}))
    return client


def test_a_requested_listing_that_fails_is_tried_again_until_the_interval_answers_it(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = pushed_newcomer(catalog, hub)
    hub.fail(Fault(502, "/orgs/acme/repos", {}, "Server Error", times=2))  # the request and its retry

    failed = catalog.sync(everything=False)

    assert "HTTP 502" in str(failed.sources[0]["error"])
    assert catalog.entity("product:default/fresh") is None
    assert shown_request(client) is not None  # kept: the host's lapse is no answer
    monkeypatch.setattr(discovery, "RELIST_SECONDS", 0.0)  # as if RELIST_SECONDS had passed
    retried = catalog.sync(everything=False)
    assert catalog.entity("product:default/fresh") is not None
    assert shown_request(client) is None
    assert len(retried.newcomer_visible_seconds) == 1  # from the push, through the failed listing


def test_a_failed_requested_listing_as_old_as_the_interval_is_dropped(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = pushed_newcomer(catalog, hub)
    catalog.clock.now = datetime.now(UTC) + timedelta(seconds=301)  # asked a whole interval (300 s) ago
    hub.fail(Fault(502, "/orgs/acme/repos", {}, "Server Error", times=None))

    failed = catalog.sync(everything=False)

    assert "HTTP 502" in str(failed.sources[0]["error"])
    assert shown_request(client) is None  # the source's next regular listing answers it
    monkeypatch.setattr(discovery, "RELIST_SECONDS", 0.0)
    assert catalog.sync(everything=False).sources == []  # not listed at every pass meanwhile


@pytest.mark.parametrize(
    ("owner", "changes", "ref", "keys"),
    [
        pytest.param("beta", {}, "refs/heads/main", {}, id="an-owner-no-source-lists"),
        pytest.param("acme", {}, "refs/heads/feature", {}, id="another-branch"),
        pytest.param("acme", {}, "refs/tags/v1", {}, id="a-tag"),
        pytest.param("acme", {"fork": True}, "refs/heads/main", {}, id="a-fork"),
        pytest.param("acme", {"archived": True}, "refs/heads/main", {}, id="archived"),
        pytest.param("acme", {}, "refs/heads/main", {"exclude": "^fresh$"}, id="excluded"),
        pytest.param(
            "acme",
            {"topics": ["internal"]},
            "refs/heads/main",
            {"topics": {"exclude": ["internal"]}},
            id="a-topic-excluded",
        ),
    ],
)
def test_a_push_no_source_would_list_asks_for_no_listing(
    catalog: Catalog,
    hub: FakeGitHub,
    owner: str,
    changes: dict[str, Any],
    ref: str,
    keys: dict[str, Any],
) -> None:
    client = synced(catalog, hub, **keys)
    fresh = hub.add_repo(owner, "fresh", {"catalog-info.yaml": product_yaml("fresh")})
    document = github_push(
        fresh.id, after="a" * 40, ref=ref, netloc=f"127.0.0.1:{hub.port}", name=fresh.full_name
    )
    document["repository"].update(changes)
    body = body_of(document)

    answer = client.post("/api/webhooks/github", data=body, headers=github_headers(SECRET, body, "push"))

    assert answer.status_code == 202
    assert "no source lists it" in answer.get_json()["ignored"]
    assert requested(catalog, "acme") is None
    assert catalog.sync(everything=False).sources == []


def test_a_replayed_first_push_asks_once_and_a_push_from_another_host_never(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    client = synced(catalog, hub)
    fresh = hub.add_repo("acme", "fresh", {"catalog-info.yaml": product_yaml("fresh")})
    document = github_push(fresh.id, after="b" * 40, netloc=f"127.0.0.1:{hub.port}", name=fresh.full_name)
    body = body_of(document)
    headers = github_headers(SECRET, body, "push", delivery="first-push-1")
    assert "listing" in client.post("/api/webhooks/github", data=body, headers=headers).get_json()
    asked = requested(catalog, "acme")

    replayed = client.post("/api/webhooks/github", data=body, headers=headers)

    assert replayed.status_code == 200
    assert replayed.get_json() == {"duplicate": True}
    assert requested(catalog, "acme") == asked
    catalog.sync(everything=False)
    elsewhere = body_of(github_push(fresh.id + 1, after="c" * 40, name="acme/other"))  # GitHub.com
    answer = client.post(
        "/api/webhooks/github", data=elsewhere, headers=github_headers(SECRET, elsewhere, "push")
    )
    assert "ignored" in answer.get_json()
    assert requested(catalog, "acme") is None


def test_a_github_repository_created_from_a_template_is_listed_and_read_without_a_push(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    client = synced(catalog, hub)
    fresh = hub.add_repo("acme", "fresh", {"catalog-info.yaml": product_yaml("fresh")})
    created = repository_event(client, hub, fresh.id, "created", fresh.full_name)
    catalog.sync(everything=False)

    assert created == {"accepted": True, "repositories": [], "listing": ["acme"]}
    assert catalog.entity("product:default/fresh") is not None
    # a redelivery, with an id of its own, once the source lists it
    answer = repository_event(client, hub, fresh.id, "created", fresh.full_name)
    assert answer == {"ignored": "a source lists this repository already"}


def test_the_first_push_to_a_new_gitlab_project_in_a_subgroup_lists_its_source(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    gitlab.add_project("acme", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    client = use_gitlab(catalog, gitlab)
    catalog.sync()
    fresh = gitlab.add_project("acme/platform", "fresh", files={"catalog-info.yaml": product_yaml("fresh")})
    document = gitlab_push(fresh.id, after="d" * 40, path=fresh.path_with_namespace)
    document["project"]["web_url"] = f"{gitlab.origin}/{fresh.path_with_namespace}"
    body = body_of(document)

    answer = client.post("/api/webhooks/gitlab", data=body, headers=gitlab_headers(LAB_TOKEN, "Push Hook"))
    catalog.sync(everything=False)

    assert answer.get_json()["listing"] == [configured_gitlab(gitlab)["name"]]
    assert catalog.entity("product:default/fresh") is not None


@pytest.mark.parametrize("names_instance", [True, False], ids=["x-gitlab-instance", "before-gitlab-15.5"])
def test_a_gitlab_project_created_is_listed_through_a_system_hook(
    catalog: Catalog, gitlab: FakeGitLab, names_instance: bool
) -> None:
    client = use_gitlab(catalog, gitlab)
    catalog.sync()
    fresh = gitlab.add_project("acme", "fresh", files={"catalog-info.yaml": product_yaml("fresh")})
    body = body_of(gitlab_project_event("project_create", fresh.id, fresh.path_with_namespace))
    headers = gitlab_headers(LAB_TOKEN, "System Hook") | {"X-Gitlab-Instance": gitlab.origin}
    if not names_instance:  # before GitLab 15.5 a system hook names no instance: the only GitLab host is it
        del headers["X-Gitlab-Instance"]

    answer = client.post("/api/webhooks/gitlab", data=body, headers=headers)
    catalog.sync(everything=False)

    assert answer.get_json().get("listing") == ["acme-gl"], answer.get_json()
    assert catalog.entity("product:default/fresh") is not None


def test_a_first_push_arriving_while_its_source_is_listed_for_another_is_kept_for_the_next_listing(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = synced(catalog, hub)
    first = hub.add_repo("acme", "first", {"catalog-info.yaml": product_yaml("first")})
    first_push(client, hub, first, hub.push(first, {"README.md": "# first\n"}))
    engine = catalog._sync
    assert engine is not None
    source = engine.build_sources()[0]
    assert not isinstance(source, SourceError)
    listed = source.discover

    def discover_then_push() -> Any:
        repositories = listed()  # the host's pages are read: a repository created now is not in them
        second = hub.add_repo("acme", "second", {"catalog-info.yaml": product_yaml("second")})
        first_push(client, hub, second, hub.push(second, {"README.md": "# second\n"}))
        return repositories

    monkeypatch.setattr(source, "discover", discover_then_push)
    catalog.sync(everything=False)
    monkeypatch.setattr(source, "discover", listed)
    assert catalog.entity("product:default/first") is not None
    assert catalog.entity("product:default/second") is None

    assert requested(catalog, "acme") is not None  # the second push's request outlives that listing
    monkeypatch.setattr(discovery, "RELIST_SECONDS", 0.0)
    catalog.sync(everything=False)
    assert catalog.entity("product:default/second") is not None
    assert requested(catalog, "acme") is None


def test_a_new_repository_another_worker_listed_is_read_not_failed_by_a_worker_listed_before_it(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    client = synced(catalog, hub)  # this worker's listing predates the repository
    fresh = hub.add_repo("acme", "fresh", {"catalog-info.yaml": product_yaml("fresh")})
    first_push(client, hub, fresh, hub.push(fresh, {"README.md": "# fresh\n"}))
    other = SyncEngine(catalog.settings, sync_store(catalog.engine), worker_id="other", clock=catalog.clock)
    # Another worker, woken by the push, lists the source and answers the request; before it reads
    # the repository, this worker's pass claims it.
    other.discovery.discover(PassSummary(), catalog.clock(), force=False)
    assert requested(catalog, "acme") is None

    catalog.sync(everything=False)
    catalog.sync(everything=False)

    assert catalog.repository("acme/fresh")["state"] != "failing"
    assert catalog.entity("product:default/fresh") is not None


ARRIVALS = [
    pytest.param(
        "beta",
        {},
        lambda hub, repo: hub.transfer(repo, "acme"),
        ("transferred", {"owner": {"from": {"organization": {"login": "beta"}}}}),
        id="transferred-in",
    ),
    pytest.param(
        "acme",
        {"include": "^svc-"},
        lambda hub, repo: hub.rename(repo, "svc-tools"),
        ("renamed", {"repository": {"name": {"from": "tools"}}}),
        id="renamed-into-the-filter",
    ),
    pytest.param(
        "acme",
        {},
        lambda hub, repo: hub.archive(repo, archived=False),
        ("unarchived", {}),
        id="unarchived",
    ),
]


@pytest.mark.parametrize(("owner", "keys", "change", "event"), ARRIVALS)
def test_a_github_repository_moved_or_unarchived_into_a_sources_reach_is_listed_at_once(
    catalog: Catalog,
    hub: FakeGitHub,
    owner: str,
    keys: dict[str, Any],
    change: Any,
    event: tuple[str, dict[str, Any]],
) -> None:
    tools = hub.add_repo(owner, "tools", {"catalog-info.yaml": product_yaml("tools")})
    hub.archive(tools, archived=event[0] == "unarchived")
    client = synced(catalog, hub, **keys)
    assert catalog.entity("product:default/tools") is None  # out of the source's reach
    change(hub, tools)
    answer = repository_event(client, hub, tools.id, event[0], tools.full_name, **event[1])
    catalog.sync(everything=False)

    assert answer == {"accepted": True, "repositories": [], "listing": ["acme"]}
    assert catalog.entity("product:default/tools") is not None


@pytest.mark.parametrize(
    ("action", "name", "changes"),
    [
        ("transferred", "gamma/tools", {"owner": {"from": {"organization": {"login": "beta"}}}}),
        ("renamed", "acme/tmp-tools", {"repository": {"name": {"from": "tools"}}}),
        ("deleted", "acme/svc-tools", {}),
        ("archived", "acme/svc-tools", {}),
    ],
)
def test_a_repository_event_out_of_every_sources_reach_asks_for_no_listing(
    catalog: Catalog, hub: FakeGitHub, action: str, name: str, changes: dict[str, Any]
) -> None:
    client = synced(catalog, hub, include="^svc-")
    answer = repository_event(client, hub, 999, action, name, **changes)

    assert "ignored" in answer
    assert requested(catalog, "acme") is None


def test_a_gitlab_project_transferred_into_the_group_is_listed_through_a_system_hook(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    elsewhere = gitlab.add_project("other", "tools", files={"catalog-info.yaml": product_yaml("tools")})
    client = use_gitlab(catalog, gitlab)
    catalog.sync()
    assert catalog.entity("product:default/tools") is None
    old_path = elsewhere.path_with_namespace
    gitlab.transfer(elsewhere, "acme/platform")
    body = body_of(
        gitlab_project_event(
            "project_transfer", elsewhere.id, elsewhere.path_with_namespace, old_path_with_namespace=old_path
        )
    )
    headers = gitlab_headers(LAB_TOKEN, "System Hook") | {"X-Gitlab-Instance": gitlab.origin}

    answer = client.post("/api/webhooks/gitlab", data=body, headers=headers)
    catalog.sync(everything=False)

    assert answer.get_json().get("listing") == ["acme-gl"], answer.get_json()
    assert catalog.entity("product:default/tools") is not None
