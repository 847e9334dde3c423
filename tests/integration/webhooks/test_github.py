"""GitHub deliveries: a signed push is read at its commit by the next pass; everything else changes
exactly what it says, and a delivery that is not GitHub's changes nothing."""

from __future__ import annotations

from typing import Any

from catalog_sync.sources.base import Snapshot
from tests.fixtures.hosted import (
    body_of,
    github_headers,
    github_push,
    github_repository_event,
)
from tests.integration.webhooks.conftest import NEXT_SECRET, SECRET, World

PAY = "github:api.github.com:101"


def send(
    world: World,
    document: object,
    event: str = "push",
    *,
    secret: str | None = SECRET,
    delivery: str | None = None,
) -> Any:
    body = body_of(document)
    return world.client.post(
        "/api/webhooks/github", data=body, headers=github_headers(secret, body, event, delivery)
    )


def test_a_push_to_the_tracked_branch_is_read_at_the_pushed_commit_by_the_next_pass(world: World) -> None:
    after = world.repo("gh", "pay", lifecycle="deprecated").head()
    answer = send(world, github_push(101, after=after))
    assert world.lifecycle("pay") == "production"  # the answer did no git work
    summary = world.assert_push_read_by_next_pass(answer, PAY, after)
    assert world.lifecycle("pay") == "deprecated"
    assert len(summary.push_visible_seconds) == 1


def test_the_pushed_commit_is_read_even_when_the_hosts_tip_answer_is_stale(world: World) -> None:
    before = world.repos["pay"].head()
    after = world.repo("gh", "pay", lifecycle="deprecated").head()
    world.hosted("pay").stale_tip = before  # the host's cached answer still names the old commit
    assert send(world, github_push(101, after=after)).status_code == 202
    world.sync_due()
    assert world.hosted("pay").reads[-1] == after
    assert world.lifecycle("pay") == "deprecated"


def test_a_replayed_delivery_is_a_duplicate_and_the_repository_is_read_once(world: World) -> None:
    after = world.repo("gh", "pay", lifecycle="deprecated").head()
    first = send(world, github_push(101, after=after), delivery="d-1")
    assert first.status_code == 202
    world.sync_due()
    reads = list(world.hosted("pay").reads)
    again = send(world, github_push(101, after=after), delivery="d-1")
    assert again.status_code == 200
    assert again.get_json() == {"duplicate": True}
    assert world.pushes_waiting() == 0
    assert world.sync_due().repositories == 0
    assert world.hosted("pay").reads == reads
    assert len(world.deliveries()) == 1


def test_a_bad_signature_is_refused_and_nothing_is_scheduled(world: World) -> None:
    after = world.repo("gh", "pay", lifecycle="deprecated").head()
    body = body_of(github_push(101, after=after))
    headers = github_headers(SECRET, body, "push")
    headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    answer = world.client.post("/api/webhooks/github", data=body, headers=headers)
    assert answer.status_code == 401
    assert "does not match" in answer.get_json()["error"]["message"]
    assert world.pushes_waiting() == 0
    assert world.deliveries() == []
    assert world.sync_due().repositories == 0
    assert world.lifecycle("pay") == "production"


def test_a_delivery_signed_with_another_secret_or_not_at_all_is_refused(world: World) -> None:
    document = github_push(101, after="a" * 40)
    assert send(world, document, secret="some-other-secret-0123456789").status_code == 401
    missing = send(world, document, secret=None)
    assert missing.status_code == 401
    assert "missing X-Hub-Signature-256" in missing.get_json()["error"]["message"]
    body = body_of(document)
    tampered = world.client.post(
        "/api/webhooks/github", data=body + b" ", headers=github_headers(SECRET, body, "push")
    )
    assert tampered.status_code == 401
    assert world.deliveries() == []


def test_the_second_secret_is_valid_while_rotating(world: World) -> None:
    after = world.repo("gh", "pay", lifecycle="deprecated").head()
    assert send(world, github_push(101, after=after), secret=NEXT_SECRET).status_code == 202
    world.sync_due()
    assert world.lifecycle("pay") == "deprecated"


def test_a_ping_is_answered(world: World) -> None:
    answer = send(world, {"zen": "Keep it logically awesome.", "hook_id": 1}, "ping")
    assert answer.status_code == 200
    assert answer.get_json() == {"accepted": True}


def test_a_push_to_another_branch_or_a_tag_is_ignored_with_the_reason(world: World) -> None:
    other = send(world, github_push(101, after="b" * 40, ref="refs/heads/feature"))
    assert other.status_code == 202
    assert "feature" in other.get_json()["ignored"]
    assert "main" in other.get_json()["ignored"]
    tag = send(world, github_push(101, after="b" * 40, ref="refs/tags/v1"))
    assert tag.status_code == 202
    assert "not a branch" in tag.get_json()["ignored"]
    assert world.pushes_waiting() == 0


def test_a_push_for_an_unknown_repository_or_another_host_is_ignored(world: World) -> None:
    unknown = send(world, github_push(999, after="c" * 40))
    assert unknown.status_code == 202
    assert "no repository" in unknown.get_json()["ignored"]
    elsewhere = send(world, github_push(101, after="c" * 40, netloc="ghe.example.com"))
    assert elsewhere.status_code == 202
    assert "ignored" in elsewhere.get_json()
    assert world.pushes_waiting() == 0


def test_an_ignored_delivery_redelivered_once_the_repository_is_known_is_read(world: World) -> None:
    """Webhooks are often wired before the catalog lists a repository; redelivering from the host's
    settings afterwards must do what the delivery asks, not answer "duplicate"."""
    cart = world.repo("gh", "cart", lifecycle="deprecated").head()
    push = body_of(github_push(103, after=cart, name="acme/cart"))
    archived = body_of(github_repository_event(103, "archived", name="acme/cart"))

    def redeliver(body: bytes, event: str, delivery: str) -> Any:
        headers = github_headers(SECRET, body, event, delivery)
        return world.client.post("/api/webhooks/github", data=body, headers=headers)

    assert "no repository" in redeliver(push, "push", "push-1").get_json()["ignored"]
    assert "ignored" in redeliver(push, "push", "push-1").get_json()  # still unknown: ignored, not duplicate
    assert "ignored" in redeliver(archived, "repository", "repo-1").get_json()
    world.github.ids["cart"] = 103  # the source lists it now
    world.sync_all()

    accepted = redeliver(push, "push", "push-1")
    assert accepted.status_code == 202, accepted.get_json()
    assert accepted.get_json()["accepted"] is True
    assert redeliver(push, "push", "push-1").get_json() == {"duplicate": True}  # accepted once, once only
    assert world.row("github:api.github.com:103")["pushed_commit"] == cart
    assert redeliver(archived, "repository", "repo-1").get_json()["accepted"] is True
    assert world.orphaned("cart")
    assert [d["result"] for d in world.deliveries() if d["delivery_id"] in ("push-1", "repo-1")] == [
        "accepted",
        "accepted",
    ]


def test_a_deleted_repository_has_its_entities_orphaned_not_deleted(world: World) -> None:
    answer = send(world, github_repository_event(101, "deleted"), "repository")
    assert answer.status_code == 202
    assert world.row(PAY)["removed_at"] is not None
    assert world.orphaned("pay")
    assert world.entity("pay")["metadata"]["annotations"]["backstage.io/orphan"] == "true"
    assert not world.orphaned("shop")


def test_an_archived_repository_is_orphaned_and_comes_back_when_unarchived(world: World) -> None:
    assert send(world, github_repository_event(101, "archived"), "repository").status_code == 202
    assert world.orphaned("pay")
    world.repo("gh", "pay", lifecycle="deprecated")
    back = send(world, github_repository_event(101, "unarchived"), "repository")
    assert back.status_code == 202
    # brought back by the listing it asks for
    assert back.get_json() == {"accepted": True, "repositories": [world.row(PAY)["id"]], "listing": ["acme"]}
    world.sync_due()
    assert world.row(PAY)["removed_at"] is None
    assert not world.orphaned("pay")
    assert world.lifecycle("pay") == "deprecated"


def test_a_renamed_or_transferred_repository_keeps_its_key_and_entities(world: World) -> None:
    uid = world.entity("pay")["metadata"]["uid"]
    renamed = github_repository_event(
        101, "renamed", name="acme/payments", changes={"repository": {"name": {"from": "pay"}}}
    )
    answer = send(world, renamed, "repository")
    row = world.row(PAY)
    # The source lists again (the entities' locations name the new path): the answer says so, as for
    # a created or an unarchived repository.
    assert (answer.status_code, answer.get_json()) == (
        202,
        {"accepted": True, "repositories": [row["id"]], "listing": ["acme"]},
    )
    assert (row["name"], row["url"]) == ("acme/payments", "https://github.com/acme/payments.git")
    moved = github_repository_event(
        101,
        "transferred",
        name="platform/payments",
        changes={"owner": {"from": {"organization": {"login": "acme"}}}},
    )
    answer = send(world, moved, "repository")
    row = world.row(PAY)
    assert answer.get_json() == {"accepted": True, "repositories": [row["id"]], "listing": ["acme"]}
    assert (row["key"], row["name"]) == (PAY, "platform/payments")
    assert row["url"] == "https://github.com/platform/payments.git"
    assert world.entity("pay")["metadata"]["uid"] == uid


def test_a_repository_action_the_catalog_does_not_follow_is_ignored(world: World) -> None:
    answer = send(world, github_repository_event(101, "publicized"), "repository")
    assert answer.status_code == 202
    assert "publicized" in answer.get_json()["ignored"]


def test_a_push_that_arrives_while_the_repository_is_read_keeps_it_due(world: World) -> None:
    first = world.repo("gh", "pay", lifecycle="deprecated").head()
    assert send(world, github_push(101, after=first)).status_code == 202
    second = world.repo("gh", "pay", lifecycle="retired").head()

    original = world.hosted("pay").snapshot

    def push_meanwhile(commit: str) -> Snapshot:
        if commit == first:
            send(world, github_push(101, after=second))
        return original(commit)

    world.hosted("pay").snapshot = push_meanwhile  # type: ignore[method-assign]
    summary = world.sync_due()  # the write of the first push keeps the repository due for the second
    assert summary.repositories == 2
    assert world.hosted("pay").reads[-2:] == [first, second]
    assert world.lifecycle("pay") == "retired"
    assert world.pushes_waiting() == 0
