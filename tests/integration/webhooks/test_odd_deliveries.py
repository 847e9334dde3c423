"""Deliveries in shapes the happy path does not show: what real hosts send now and then (a branch
deleted, a quoted escape in a commit message, a merge request through a system hook, a charset in the
content type) is answered 2xx, and a broken field is refused by name with nothing scheduled."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.fixtures.hosted import (
    body_of,
    github_headers,
    github_push,
    github_repository_event,
    gitlab_headers,
    gitlab_push,
    gitlab_repository_update,
)
from tests.integration.webhooks.conftest import ENVIRONMENT, LAB_TOKEN, SECRET, World

PAY = "github:api.github.com:101"
LEDGER = "gitlab:gitlab.example.com:7"


def to_github(world: World, document: object, event: str = "push", **headers: str) -> Any:
    body = body_of(document)
    all_headers = github_headers(SECRET, body, event) | headers
    return world.client.post("/api/webhooks/github", data=body, headers=all_headers)


def to_gitlab(world: World, document: object, event: str = "Push Hook", **headers: str) -> Any:
    all_headers = gitlab_headers(LAB_TOKEN, event) | headers
    return world.client.post("/api/webhooks/gitlab", data=body_of(document), headers=all_headers)


def message(answer: Any) -> str:
    return str(answer.get_json()["error"]["message"])


def test_a_push_whose_commit_message_quotes_a_nul_escape_is_read(small_world: World) -> None:
    after = small_world.repo("gh", "pay", lifecycle="deprecated").head()
    document = github_push(101, after=after)
    document["commits"][0]["message"] = 'Refuse "\\u0000" in names'  # JSON: "\\u0000", no NUL
    answer = to_github(small_world, document)
    assert answer.status_code == 202, answer.get_json()
    assert small_world.row(PAY)["pushed_commit"] == after
    small_world.sync_due()
    assert small_world.lifecycle("pay") == "deprecated"


def test_a_nul_in_a_field_the_catalog_does_not_read_changes_nothing_of_the_push(small_world: World) -> None:
    after = small_world.repo("gl", "ledger", lifecycle="deprecated").head()
    document = gitlab_push(7, after=after) | {"commits": [{"id": after, "message": "a\x00b"}]}
    answer = to_gitlab(small_world, document)
    assert answer.status_code == 202, answer.get_json()
    assert small_world.row(LEDGER)["pushed_commit"] == after


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ref": "refs/heads/ma\x00in"}, "ref"),
        ({"ref": "refs/heads/main\n"}, "ref"),
        ({"project": {"id": 7, "web_url": "https://gitlab.example.com/acme/ledger\x00"}}, "project.web_url"),
    ],
)
def test_a_control_character_in_a_field_read_is_refused_naming_it(
    small_world: World, change: dict[str, Any], field: str
) -> None:
    answer = to_gitlab(small_world, gitlab_push(7, after="a" * 40) | change)
    assert answer.status_code == 400
    assert field in message(answer)
    assert "control characters" in message(answer)
    assert small_world.pushes_waiting() == 0
    assert small_world.deliveries() == []


def test_an_unpaired_surrogate_escape_in_a_new_name_is_refused_naming_it(small_world: World) -> None:
    renamed = github_repository_event(
        101, "renamed", name="acme/payments", changes={"repository": {"name": {"from": "pay"}}}
    )
    renamed["repository"]["full_name"] = "acme/pay\ud800ments"
    answer = to_github(small_world, renamed, "repository")
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert "repository.full_name" in message(answer)
    moved = {
        "event_name": "project_rename",
        "project_id": 7,
        "path_with_namespace": "acme/\udfffbooks",
        "old_path_with_namespace": "acme/ledger",
    }
    answer = to_gitlab(small_world, moved, "System Hook")
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert "path_with_namespace" in message(answer)
    assert small_world.row(PAY)["name"] == "acme/pay"
    assert small_world.deliveries() == []


def test_a_signature_in_upper_case_hex_is_the_same_signature(small_world: World) -> None:
    after = small_world.repo("gh", "pay", lifecycle="deprecated").head()
    body = body_of(github_push(101, after=after))
    headers = github_headers(SECRET, body, "push")
    headers["X-Hub-Signature-256"] = (
        "sha256=" + headers["X-Hub-Signature-256"].removeprefix("sha256=").upper()
    )
    answer = small_world.client.post("/api/webhooks/github", data=body, headers=headers)
    assert answer.status_code == 202, answer.get_json()
    assert small_world.pushes_waiting() == 1


@pytest.mark.parametrize("after", ["0", "00", "0" * 39, "0" * 41])
def test_an_after_of_a_few_zeros_is_no_branch_deletion(small_world: World, after: str) -> None:
    answer = to_gitlab(small_world, gitlab_push(7, after=after))
    assert answer.status_code == 400
    assert "after" in message(answer)
    assert small_world.deliveries() == []
    assert small_world.sync_due().repositories == 0


@pytest.mark.parametrize("zeros", [40, 64])
def test_a_deleted_tracked_branch_makes_the_repository_read_again(small_world: World, zeros: int) -> None:
    github = to_github(small_world, github_push(101, after="0" * zeros) | {"deleted": True})
    assert github.status_code == 202, github.get_json()
    assert github.get_json()["accepted"] is True
    gitlab = to_gitlab(small_world, gitlab_push(7, after="0" * zeros))
    assert gitlab.status_code == 202, gitlab.get_json()
    assert gitlab.get_json()["accepted"] is True
    assert small_world.pushes_waiting() == 0  # no commit to read: the pass asks for the tip
    assert small_world.sync_due().repositories == 2


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_is_json_whatever_the_case_or_charset_of_its_content_type(
    small_world: World, content_type: str
) -> None:
    answer = to_github(small_world, github_push(101, after="a" * 40), **{"Content-Type": content_type})
    assert answer.status_code == 202, answer.get_json()


def test_a_delivery_without_a_content_type_is_refused_as_not_json(small_world: World) -> None:
    body = body_of(github_push(101, after="a" * 40))
    headers = github_headers(SECRET, body, "push")
    del headers["Content-Type"]
    answer = small_world.client.post("/api/webhooks/github", data=body, headers=headers)
    assert answer.status_code == 415
    assert "application/json" in message(answer)
    assert small_world.deliveries() == []


def test_a_delivery_without_an_id_is_recognised_by_its_body(small_world: World) -> None:
    body = body_of(github_push(101, after="a" * 40))
    headers = github_headers(SECRET, body, "push")
    del headers["X-GitHub-Delivery"]
    first = small_world.client.post("/api/webhooks/github", data=body, headers=headers)
    again = small_world.client.post("/api/webhooks/github", data=body, headers=headers)
    assert first.status_code == 202
    assert (again.status_code, again.get_json()) == (200, {"duplicate": True})
    other = body_of(github_push(101, after="b" * 40))
    other_headers = github_headers(SECRET, other, "push")
    del other_headers["X-GitHub-Delivery"]
    assert (
        small_world.client.post("/api/webhooks/github", data=other, headers=other_headers).status_code == 202
    )
    assert len(small_world.deliveries()) == 2
    assert small_world.row(PAY)["pushed_commit"] == "b" * 40


def test_one_event_delivered_to_two_hooks_is_applied_once(small_world: World) -> None:
    """GitHub gives an event one delivery id across every hook it goes to (a repository's and its
    organisation's), with bodies that differ in small ways: the second is a duplicate."""
    document = github_push(101, after="a" * 40)
    assert to_github(small_world, document, **{"X-GitHub-Delivery": "guid-1"}).status_code == 202
    org_hook = document | {"organization": {"login": "acme"}}
    again = to_github(small_world, org_hook, **{"X-GitHub-Delivery": "guid-1"})
    assert (again.status_code, again.get_json()) == (200, {"duplicate": True})
    assert len(small_world.deliveries()) == 1


def test_a_signed_body_shorter_than_its_declared_length_is_read_as_it_arrived(small_world: World) -> None:
    """The signature vouches for the bytes that came, whatever the length said: nothing is lost."""
    body = body_of(github_push(101, after="a" * 40))
    answer = small_world.client.post(
        "/api/webhooks/github",
        input_stream=io.BytesIO(body),
        headers=github_headers(SECRET, body, "push"),
        environ_overrides={"CONTENT_LENGTH": str(len(body) + 100)},
    )
    assert answer.status_code == 202, answer.get_json()
    assert small_world.row(PAY)["pushed_commit"] == "a" * 40


def test_a_body_longer_than_its_declared_length_fails_its_signature(small_world: World) -> None:
    body = body_of(github_push(101, after="a" * 40))
    answer = small_world.client.post(
        "/api/webhooks/github",
        input_stream=io.BytesIO(body),
        headers=github_headers(SECRET, body, "push"),
        environ_overrides={"CONTENT_LENGTH": str(len(body) - 10)},
    )
    assert answer.status_code == 401
    assert small_world.deliveries() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"project": {"id": "7", "web_url": "https://gitlab.example.com/acme/ledger"}}, "project.id"),
        ({"project": {"id": 7.0, "web_url": "https://gitlab.example.com/acme/ledger"}}, "project.id"),
        ({"project": {"id": False, "web_url": "https://gitlab.example.com/acme/ledger"}}, "project.id"),
        ({"project": {"id": 2**70, "web_url": "https://gitlab.example.com/acme/ledger"}}, "project.id"),
        ({"project": None, "project_id": None}, "project.id"),
        ({"project": {"id": 7, "web_url": "javascript:alert(1)"}}, "project.web_url"),
        ({"after": "A" * 40}, "after"),
        ({"after": None}, "after"),
        ({"ref": 5}, "ref"),
    ],
)
def test_a_gitlab_push_with_a_broken_field_is_refused_naming_it(
    small_world: World, change: dict[str, Any], field: str
) -> None:
    answer = to_gitlab(small_world, gitlab_push(7, after="a" * 40) | change)
    assert answer.status_code == 400, answer.get_json()
    assert field in message(answer)
    assert small_world.deliveries() == []


@pytest.mark.parametrize(
    "ref", ["main", "refs/tags/v1", "refs/heads/f\u00eature", "refs/merge-requests/1/head"]
)
def test_a_push_to_a_ref_that_is_not_the_tracked_branch_is_ignored(small_world: World, ref: str) -> None:
    answer = to_github(small_world, github_push(101, after="a" * 40, ref=ref))
    assert answer.status_code == 202
    assert "ignored" in answer.get_json()
    assert small_world.pushes_waiting() == 0


def test_lifecycle_events_for_repositories_the_catalog_does_not_know_change_nothing(
    small_world: World,
) -> None:
    deleted = to_github(small_world, github_repository_event(999, "deleted"), "repository")
    assert deleted.status_code == 202
    assert "no repository" in deleted.get_json()["ignored"]
    destroyed = to_gitlab(small_world, {"event_name": "project_destroy", "project_id": 99}, "System Hook")
    assert destroyed.status_code == 202
    assert "no repository" in destroyed.get_json()["ignored"]
    assert not small_world.orphaned("pay")
    assert not small_world.orphaned("ledger")


def test_a_merge_request_through_the_system_hook_is_ignored(small_world: World) -> None:
    """GitLab's system hook names a merge request event by ``object_kind`` alone (no ``event_name``)."""
    document = {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "project": {"id": 7, "web_url": "https://gitlab.example.com/acme/ledger"},
        "object_attributes": {"id": 99, "target_branch": "main", "state": "opened"},
    }
    answer = to_gitlab(small_world, document, "System Hook")
    assert answer.status_code == 202, answer.get_json()
    assert "merge_request" in answer.get_json()["ignored"]
    assert small_world.pushes_waiting() == 0


def ledger_update(*changes: Any, **fields: Any) -> dict[str, Any]:
    """A ``repository_update`` of ``acme/ledger`` whose ``changes`` are given as sent."""
    document = gitlab_repository_update(7, [], path="acme/ledger") | fields
    document["changes"] = list(changes)
    return document


MAIN = {"ref": "refs/heads/main", "after": "a" * 40}


@pytest.mark.parametrize(
    ("document", "status", "fragment"),
    [
        ({"event_name": "repository_update", "project_id": 7}, 400, "changes must be a list"),
        ({"event_name": "project_destroy", "project_id": None}, 400, "project_id"),
        ({"event_name": "project_rename", "project_id": 7, "path_with_namespace": "a/b"}, 400, "old_path"),
        ({"event_name": 5, "project_id": 7}, 400, "event_name"),
        ({"object_kind": ["push"], "project_id": 7}, 400, "object_kind"),
        (ledger_update() | {"changes": {"ref": "refs/heads/main"}}, 400, "changes must be a list"),
        (ledger_update("refs/heads/main"), 400, "changes[0] must be an object"),
        (ledger_update(MAIN, ["refs/heads/main"]), 400, "changes[1] must be an object"),
        (ledger_update(MAIN | {"ref": 5}), 400, "changes[0].ref must be a non-empty string"),
        (ledger_update(MAIN | {"ref": "refs/heads/ma\u0000in"}), 400, "changes[0].ref must not contain"),
        (ledger_update(MAIN | {"after": None}), 400, "changes[0].after must be a non-empty string"),
        (ledger_update(MAIN | {"after": "HEAD"}), 400, "changes[0].after must be a full commit id"),
        (
            ledger_update({"ref": "refs/heads/x", "after": "b" * 40}, MAIN | {"after": "A" * 40}),
            400,
            "changes[1]",
        ),
        (ledger_update(MAIN, project=None, project_id=None), 400, "project.id is missing"),
        (ledger_update(MAIN, project_id="7", project={"id": True}), 400, "must be a positive integer"),
        (ledger_update(MAIN) | {"project": {"id": 7, "web_url": "ftp://x"}}, 400, "project.web_url"),
        (ledger_update(), 202, "names no changed ref"),
        (ledger_update(MAIN, project_id=8, project={"id": 8}), 202, "no repository"),
    ],
)
def test_system_hook_events_of_odd_shapes(
    small_world: World, document: dict[str, Any], status: int, fragment: str
) -> None:
    answer = to_gitlab(small_world, document, "System Hook")
    assert answer.status_code == status, answer.get_json()
    shown = answer.get_json()["ignored"] if status == 202 else message(answer)
    assert fragment in shown
    assert not small_world.orphaned("ledger")
    assert small_world.row(LEDGER)["name"] != "a/b"
    assert small_world.pushes_waiting() == 0


def test_a_system_hook_of_another_instance_changes_nothing_of_a_project_with_the_same_id(
    small_world: World,
) -> None:
    """A system hook names its project by id alone; the instance that sent it says which GitLab it is."""
    destroyed = {"event_name": "project_destroy", "project_id": 7, "path_with_namespace": "acme/ledger"}
    elsewhere = to_gitlab(
        small_world, destroyed, "System Hook", **{"X-Gitlab-Instance": "https://gitlab.other.example"}
    )
    assert elsewhere.status_code == 202
    assert "no repository" in elsewhere.get_json()["ignored"]
    assert not small_world.orphaned("ledger")
    broken = to_gitlab(small_world, destroyed, "System Hook", **{"X-Gitlab-Instance": "gitlab.example.com"})
    assert broken.status_code == 400
    assert "X-Gitlab-Instance" in message(broken)
    assert not small_world.orphaned("ledger")
    here = to_gitlab(small_world, destroyed, "System Hook")  # X-Gitlab-Instance: https://gitlab.example.com
    assert here.status_code == 202
    assert here.get_json()["accepted"] is True
    assert small_world.orphaned("ledger")


UNICODE_TOKEN = "t\u00f6k\u00e9n-\u2603-0123456789-\u00e0"
"""Ends in ``à``: UTF-8 C3 A0, whose A0 a server's latin-1 reading of the header shows as a no-break space."""


def as_sent(value: str) -> str:
    """A header value as a WSGI server hands it on: its UTF-8 bytes read as latin-1 (the test client
    would pass the text itself)."""
    return value.encode().decode("latin-1")


def test_gitlab_tokens_in_unicode_or_with_spaces_around_them_are_accepted(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    environ = ENVIRONMENT | {"CATALOG_SYNC_GITLAB_WEBHOOK_TOKENS": f"{UNICODE_TOKEN}, {LAB_TOKEN}"}
    world = World(tmp_path, sqlite_engine, environ=environ)
    try:
        world.repo("gl", "ledger")
        world.sync_all()
        unicode = to_gitlab(
            world, gitlab_push(7, after="a" * 40), **{"X-Gitlab-Token": as_sent(UNICODE_TOKEN)}
        )
        assert unicode.status_code == 202, unicode.get_json()
        spaced = to_gitlab(world, gitlab_push(7, after="b" * 40), **{"X-Gitlab-Token": f" {LAB_TOKEN}\t "})
        assert spaced.status_code == 202, spaced.get_json()
        cut = to_gitlab(
            world, gitlab_push(7, after="c" * 40), **{"X-Gitlab-Token": as_sent(UNICODE_TOKEN[:-1])}
        )
        assert cut.status_code == 401
        assert world.row(LEDGER)["pushed_commit"] == "b" * 40
    finally:
        world.engine_sync.close()
