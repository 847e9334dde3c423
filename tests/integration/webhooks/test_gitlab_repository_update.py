"""GitLab's system hook ``repository_update``, sent once per push whatever its number of refs, and the
only event of a push of more than ``push_event_hooks_limit`` refs (3 by default): the change to the
branch a source reads is read as a push to it, against the local GitLab and its real git."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.fixtures.fakegitlab import FakeGitLab, FakeProject
from tests.fixtures.hosted import body_of, gitlab_headers, gitlab_push, gitlab_repository_update
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.webhooks.conftest import LAB_TOKEN
from tests.integration.webhooks.test_push_order import (
    configured_gitlab,
    lifecycle,
    use_gitlab,
    webhook_client,
)


def update_of(gitlab: FakeGitLab, project: FakeProject, *changes: tuple[str, str]) -> dict[str, Any]:
    """A ``repository_update`` of the local GitLab naming ``changes`` (ref, after) of ``project``."""
    document = gitlab_repository_update(project.id, list(changes), path=project.path_with_namespace)
    document["project"] |= {
        "web_url": f"{gitlab.origin}/{project.path_with_namespace}",
        "default_branch": project.default_branch,
    }
    return document


def to_system_hook(client: FlaskClient, gitlab: FakeGitLab, document: dict[str, Any], **headers: str) -> Any:
    sent = gitlab_headers(LAB_TOKEN, "System Hook") | {"X-Gitlab-Instance": gitlab.origin} | headers
    return client.post("/api/webhooks/gitlab", data=body_of(document), headers=sent)


def ledger_read(catalog: Catalog, gitlab: FakeGitLab) -> tuple[FlaskClient, FakeProject]:
    """The project ``acme/ledger`` listed and read once (``production``); the catalog's API."""
    ledger = gitlab.add_project("acme", "ledger", files={"catalog-info.yaml": product_yaml("ledger")})
    client = use_gitlab(catalog, gitlab)
    catalog.sync()
    assert lifecycle(catalog, "ledger") == "production"
    return client, ledger


def publish_on(project: FakeProject, branch: str, lifecycle_set: str) -> str:
    """Commit a ``catalog-info.yaml`` of ``lifecycle_set`` on ``branch`` (from the default branch's
    tip) and push it to the host; the default branch stays checked out."""
    work = project.remote.work
    work.git("checkout", "--quiet", "-B", branch, project.default_branch)
    sha = project.remote.publish({"catalog-info.yaml": product_yaml("ledger", lifecycle=lifecycle_set)})
    work.git("checkout", "--quiet", project.default_branch)
    return sha


def tag(project: FakeProject, name: str) -> str:
    """A tag of the default branch's tip, pushed to the host; answers the commit it names."""
    work = project.remote.work
    work.git("tag", name)
    work.git("push", "--quiet", "origin", f"refs/tags/{name}")
    return work.git("rev-parse", "HEAD").strip()


def assert_read_at(catalog: Catalog, answer: Any, after: str) -> None:
    """The update was accepted for ``acme/ledger``, and the next pass of what is due reads it at
    ``after`` (whose descriptor says ``deprecated``)."""
    row = catalog.repository("acme/ledger")
    assert (answer.status_code, answer.get_json()) == (202, {"accepted": True, "repositories": [row["id"]]})
    assert row["pushed_commit"] == after
    read_when_due(catalog)
    assert lifecycle(catalog, "ledger") == "deprecated"


def read_when_due(catalog: Catalog) -> None:
    """A pass reading only the repositories due (a webhook's), not every source's listing."""
    catalog.clock.advance(seconds=5)
    catalog.sync(everything=False)


@pytest.mark.parametrize("others", [False, True], ids=["main alone", "four refs"])
def test_an_update_of_the_tracked_branch_is_read_at_the_pushed_commit(
    catalog: Catalog, gitlab: FakeGitLab, others: bool
) -> None:
    # Four refs are more than push_event_hooks_limit: GitLab sends no push hook, this is the only event.
    client, ledger = ledger_read(catalog, gitlab)
    moved = []
    if others:
        moved = [
            ("refs/heads/feature", publish_on(ledger, "feature", "experimental")),
            ("refs/heads/fix", publish_on(ledger, "fix", "retired")),
        ]
    after = gitlab.push(ledger, {"catalog-info.yaml": product_yaml("ledger", lifecycle="deprecated")})
    if others:
        moved.insert(1, ("refs/tags/v1.0", tag(ledger, "v1.0")))
    changes = [*moved[:2], ("refs/heads/main", after), *moved[2:]]
    answer = to_system_hook(client, gitlab, update_of(gitlab, ledger, *changes))
    assert_read_at(catalog, answer, after)


def test_an_update_of_thousands_of_refs_is_read_and_refused_by_the_one_broken(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    client, ledger = ledger_read(catalog, gitlab)
    after = gitlab.push(ledger, {"catalog-info.yaml": product_yaml("ledger", lifecycle="deprecated")})
    others = [(f"refs/heads/topic-{n}", "c" * 40) for n in range(3000)]
    broken = update_of(gitlab, ledger, *others, ("refs/heads/main", after))
    broken["changes"][1500]["after"] = 7
    refused = to_system_hook(client, gitlab, broken)
    assert refused.status_code == 400
    assert "changes[1500].after must be a non-empty string" in refused.get_json()["error"]["message"]
    answer = to_system_hook(client, gitlab, update_of(gitlab, ledger, *others, ("refs/heads/main", after)))
    assert (answer.status_code, answer.get_json()["accepted"]) == (202, True), answer.get_json()
    read_when_due(catalog)
    assert lifecycle(catalog, "ledger") == "deprecated"


@pytest.mark.parametrize(
    ("refs", "reason"),
    [
        (["refs/heads/feature"], "'feature'; the catalog reads main"),
        (["refs/tags/v1.0"], "not a branch"),
        (["refs/tags/v1.0", "refs/heads/feature", "refs/heads/fix", "refs/tags/v1.1"], "'feature'"),
    ],
)
def test_an_update_of_other_branches_or_tags_only_is_ignored_and_schedules_nothing(
    catalog: Catalog, gitlab: FakeGitLab, refs: list[str], reason: str
) -> None:
    client, ledger = ledger_read(catalog, gitlab)
    changes = []
    for ref in refs:
        name = ref.rpartition("/")[2]
        after = publish_on(ledger, name, "deprecated") if "/heads/" in ref else tag(ledger, name)
        changes.append((ref, after))
    answer = to_system_hook(client, gitlab, update_of(gitlab, ledger, *changes))
    assert answer.status_code == 202, answer.get_json()
    assert reason in answer.get_json()["ignored"]
    assert catalog.repository("acme/ledger")["pushed_commit"] is None
    read_when_due(catalog)
    assert lifecycle(catalog, "ledger") == "production"


def counted(client: FlaskClient, result: str) -> float:
    """The system hook's deliveries counted as ``result`` (``catalog_webhook_deliveries_total``)."""
    prefix = f'catalog_webhook_deliveries_total{{event="system",provider="gitlab",result="{result}"}} '
    text = client.get("/metrics").get_data(as_text=True)
    return sum(float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix))


def test_a_replayed_update_is_not_read_twice(catalog: Catalog, gitlab: FakeGitLab) -> None:
    client, ledger = ledger_read(catalog, gitlab)
    before = {result: counted(client, result) for result in ("accepted", "duplicate")}
    after = gitlab.push(ledger, {"catalog-info.yaml": product_yaml("ledger", lifecycle="deprecated")})
    document = update_of(gitlab, ledger, ("refs/heads/feature", after), ("refs/heads/main", after))
    first = to_system_hook(client, gitlab, document, **{"X-Gitlab-Event-UUID": "u-9"})
    assert first.get_json()["accepted"] is True, first.get_json()
    read_when_due(catalog)
    assert lifecycle(catalog, "ledger") == "deprecated"
    again = to_system_hook(client, gitlab, document, **{"X-Gitlab-Event-UUID": "u-9"})
    assert (again.status_code, again.get_json()) == (200, {"duplicate": True})
    assert catalog.repository("acme/ledger")["pushed_commit"] is None  # nothing made due again
    assert {result: counted(client, result) - n for result, n in before.items()} == {
        "accepted": 1,
        "duplicate": 1,
    }


def test_an_update_deleting_the_tracked_branch_is_answered_as_the_push_deleting_it(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    client, ledger = ledger_read(catalog, gitlab)
    deleted = update_of(gitlab, ledger, ("refs/heads/main", "0" * 40))
    answer = to_system_hook(client, gitlab, deleted)
    row = catalog.repository("acme/ledger")
    assert (answer.status_code, answer.get_json()) == (202, {"accepted": True, "repositories": [row["id"]]})
    assert row["pushed_commit"] is None
    push = gitlab_push(ledger.id, after="0" * 40, path=ledger.path_with_namespace)
    push["project"] |= deleted["project"]
    pushed = client.post(
        "/api/webhooks/gitlab", data=body_of(push), headers=gitlab_headers(LAB_TOKEN, "Push Hook")
    )
    assert (pushed.status_code, pushed.get_json()) == (answer.status_code, answer.get_json())


def test_an_update_reads_the_branch_of_the_source_holding_the_project_not_another_groups(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    # ``tools`` reads ``develop`` of its own projects: a change to ``develop`` of ``acme/ledger``, which
    # only ``acme-gl`` (its default branch) lists, is no branch read, and its ``main`` change is.
    client, ledger = ledger_read(catalog, gitlab)
    gitlab.add_group("tools")
    tools = configured_gitlab(gitlab) | {"name": "tools-gl", "group": "tools", "branch": "develop"}
    catalog.config = catalog.config | {"sources": [configured_gitlab(gitlab), tools]}
    catalog.reset_engine()
    client = webhook_client(catalog, {"CATALOG_SYNC_GITLAB_WEBHOOK_TOKENS": LAB_TOKEN})
    develop = publish_on(ledger, "develop", "experimental")
    after = gitlab.push(ledger, {"catalog-info.yaml": product_yaml("ledger", lifecycle="deprecated")})
    changes = [("refs/heads/develop", develop), ("refs/heads/main", after)]
    answer = to_system_hook(client, gitlab, update_of(gitlab, ledger, *changes))
    row = catalog.repository("acme/ledger")
    assert (answer.status_code, answer.get_json()) == (202, {"accepted": True, "repositories": [row["id"]]})
    assert row["pushed_commit"] == after


def test_an_update_of_two_branches_two_sources_read_is_read_at_the_branch_the_catalog_keeps(
    catalog: Catalog, gitlab: FakeGitLab
) -> None:
    # ``acme-dev`` reads ``develop`` of the projects ``acme-gl`` reads on their default branch: the
    # catalog keeps ``acme/ledger`` once, on ``main``, and a push of both branches must make it due.
    client, ledger = ledger_read(catalog, gitlab)
    publish_on(ledger, "develop", "experimental")
    dev = configured_gitlab(gitlab) | {"name": "acme-dev", "branch": "develop"}
    catalog.config = catalog.config | {"sources": [configured_gitlab(gitlab), dev]}
    catalog.reset_engine()
    catalog.sync()
    client = webhook_client(catalog, {"CATALOG_SYNC_GITLAB_WEBHOOK_TOKENS": LAB_TOKEN})
    ledger.remote.work.git("checkout", "--quiet", "develop")
    develop = ledger.remote.publish({"catalog-info.yaml": product_yaml("ledger", lifecycle="retired")})
    ledger.remote.work.git("checkout", "--quiet", ledger.default_branch)
    after = gitlab.push(ledger, {"catalog-info.yaml": product_yaml("ledger", lifecycle="deprecated")})
    changes = [("refs/heads/develop", develop), ("refs/heads/main", after)]
    answer = to_system_hook(client, gitlab, update_of(gitlab, ledger, *changes))
    assert_read_at(catalog, answer, after)
