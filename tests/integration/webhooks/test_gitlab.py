"""GitLab deliveries: project hooks and system hooks, authenticated by ``X-Gitlab-Token``."""

from __future__ import annotations

from typing import Any

from tests.fixtures.hosted import body_of, gitlab_headers, gitlab_push
from tests.integration.webhooks.conftest import LAB_TOKEN, World

LEDGER = "gitlab:gitlab.example.com:7"


def send(
    world: World, document: object, event: str = "Push Hook", *, token: str | None = LAB_TOKEN, **headers: str
) -> Any:
    all_headers = gitlab_headers(token, event) | headers
    return world.client.post("/api/webhooks/gitlab", data=body_of(document), headers=all_headers)


def system(event_name: str, **fields: Any) -> dict[str, Any]:
    """A system hook's project event: no URL, the id and the paths only."""
    return {"event_name": event_name, "project_id": 7, "name": "ledger", **fields}


def test_a_push_hook_is_read_at_the_pushed_commit(world: World) -> None:
    after = world.repo("gl", "ledger", lifecycle="deprecated").head()
    answer = send(world, gitlab_push(7, after=after))
    assert answer.status_code == 202, answer.get_json()
    assert world.row(LEDGER)["pushed_commit"] == after
    world.sync_due()
    assert world.lifecycle("ledger") == "deprecated"


def test_a_wrong_or_missing_token_is_refused_and_nothing_is_scheduled(world: World) -> None:
    after = world.repo("gl", "ledger", lifecycle="deprecated").head()
    wrong = send(world, gitlab_push(7, after=after), token="not-the-token-0123456789")
    assert wrong.status_code == 401
    assert LAB_TOKEN not in wrong.get_data(as_text=True)
    assert send(world, gitlab_push(7, after=after), token=None).status_code == 401
    assert world.pushes_waiting() == 0
    assert world.deliveries() == []
    world.sync_due()
    assert world.lifecycle("ledger") == "production"


def test_a_repeated_idempotency_key_or_event_uuid_is_a_duplicate(world: World) -> None:
    after = world.repo("gl", "ledger", lifecycle="deprecated").head()
    assert send(world, gitlab_push(7, after=after), **{"Idempotency-Key": "k-1"}).status_code == 202
    again = send(world, gitlab_push(7, after=after), **{"Idempotency-Key": "k-1"})
    assert (again.status_code, again.get_json()) == (200, {"duplicate": True})
    world.sync_due()
    reads = list(world.hosted("ledger").reads)
    uuid_first = send(world, gitlab_push(7, after=after), **{"X-Gitlab-Event-UUID": "u-1"})
    assert uuid_first.status_code == 202
    uuid_again = send(world, gitlab_push(7, after=after), **{"X-Gitlab-Event-UUID": "u-1"})
    assert uuid_again.get_json() == {"duplicate": True}
    world.sync_due()
    assert world.hosted("ledger").reads == reads  # the commit was read already: no second read


def test_an_event_uuid_another_push_carries_too_does_not_make_that_push_a_duplicate(world: World) -> None:
    # GitLab gives every hook that a webhook receiver's API request triggers the UUID that receiver was
    # sent: a bot pushing twice with it sends two pushes under one value.
    first = world.repo("gl", "ledger", lifecycle="deprecated").head()
    assert send(world, gitlab_push(7, after=first), **{"X-Gitlab-Event-UUID": "u-7"}).status_code == 202
    world.sync_due()
    assert world.lifecycle("ledger") == "deprecated"
    second = world.repo("gl", "ledger", lifecycle="experimental").head()
    answer = send(world, gitlab_push(7, after=second), **{"X-Gitlab-Event-UUID": "u-7"})
    assert answer.status_code == 202, answer.get_json()
    world.sync_due()
    assert world.lifecycle("ledger") == "experimental"
    again = send(world, gitlab_push(7, after=second), **{"X-Gitlab-Event-UUID": "u-7"})
    assert again.get_json() == {"duplicate": True}  # the same delivery sent again still is one
    long = "u" * 200  # the longest value taken: the id stored with the body's still fits
    assert send(world, gitlab_push(7, after=first), **{"X-Gitlab-Event-UUID": long}).status_code == 202
    assert send(world, gitlab_push(7, after=second), **{"X-Gitlab-Event-UUID": long}).status_code == 202
    replay = send(world, gitlab_push(7, after=second), **{"X-Gitlab-Event-UUID": long})
    assert replay.get_json() == {"duplicate": True}


def test_a_push_through_the_system_hook_is_read_too(world: World) -> None:
    after = world.repo("gl", "ledger", lifecycle="deprecated").head()
    document = gitlab_push(7, after=after) | {"event_name": "push"}
    assert send(world, document, "System Hook").status_code == 202
    world.sync_due()
    assert world.lifecycle("ledger") == "deprecated"


def test_a_destroyed_project_is_orphaned_through_the_system_hook(world: World) -> None:
    answer = send(world, system("project_destroy", path_with_namespace="acme/ledger"), "System Hook")
    assert answer.status_code == 202, answer.get_json()
    assert world.row(LEDGER)["removed_at"] is not None
    assert world.orphaned("ledger")


def test_a_renamed_or_transferred_project_keeps_its_key_and_entities(world: World) -> None:
    uid = world.entity("ledger")["metadata"]["uid"]
    renamed = system(
        "project_rename", path_with_namespace="acme/books", old_path_with_namespace="acme/ledger"
    )
    answer = send(world, renamed, "System Hook")
    ledger = world.row(LEDGER)
    assert (answer.status_code, answer.get_json()) == (
        202,
        {"accepted": True, "repositories": [ledger["id"]], "listing": ["lab"]},
    )
    assert ledger["name"] == "acme/books"
    moved = system(
        "project_transfer", path_with_namespace="finance/books", old_path_with_namespace="acme/books"
    )
    answer = send(world, moved, "System Hook")
    assert answer.get_json() == {"accepted": True, "repositories": [ledger["id"]], "listing": ["lab"]}
    row = world.row(LEDGER)
    assert (row["key"], row["name"], row["url"]) == (
        LEDGER,
        "finance/books",
        "https://gitlab.example.com/finance/books.git",
    )
    assert world.entity("ledger")["metadata"]["uid"] == uid


def test_system_events_the_catalog_does_not_follow_are_ignored(world: World) -> None:
    answer = send(world, {"event_name": "user_create", "user_id": 3}, "System Hook")
    assert answer.status_code == 202
    assert "user_create" in answer.get_json()["ignored"]


def test_a_github_shaped_key_never_matches_a_gitlab_delivery(world: World) -> None:
    answer = send(world, gitlab_push(101, after="d" * 40))
    assert answer.status_code == 202
    assert "no repository" in answer.get_json()["ignored"]
