"""GitHub deliveries sent as a form (``application/x-www-form-urlencoded``, the default of GitHub's
"Add webhook" page): ``payload=<the JSON>``, signed as sent, read exactly as a JSON delivery, and
answered in front of Flask like one. A form that is not exactly that is refused by name; GitLab, which
only sends JSON, reads nothing else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask, request, request_started

from tests.fixtures.hosted import body_of, github_headers, github_push, gitlab_headers, gitlab_push
from tests.integration.webhooks.conftest import LAB_TOKEN, SECRET, World

PAY = "github:api.github.com:101"
FORM = "application/x-www-form-urlencoded"


def form_of(document: object) -> bytes:
    """A payload as GitHub sends it in a form: one field, ``payload``, holding the JSON."""
    return urlencode({"payload": json.dumps(document)}).encode()


def post_form(
    world: World, body: bytes, event: str = "push", *, secret: str = SECRET, content_type: str = FORM
) -> Any:
    headers = github_headers(secret, body, event) | {"Content-Type": content_type}
    return world.client.post("/api/webhooks/github", data=body, headers=headers)


def message(answer: Any) -> str:
    return str(answer.get_json()["error"]["message"])


def assert_nothing_scheduled(world: World) -> None:
    assert world.pushes_waiting() == 0
    assert world.deliveries() == []


@pytest.fixture
def flask_requests(world: World) -> Iterator[list[str]]:
    """The requests Flask itself handled: a delivery answered by the fast path is not among them."""
    handled: list[str] = []

    def started(sender: Flask, **_: Any) -> None:
        handled.append(request.path)

    request_started.connect(started, world.app)
    yield handled
    request_started.disconnect(started, world.app)


@pytest.mark.parametrize(
    "content_type", [FORM, f"{FORM}; charset=utf-8", "Application/X-WWW-Form-URLEncoded"]
)
def test_a_form_encoded_push_to_the_tracked_branch_is_read_at_the_pushed_commit(
    world: World, flask_requests: list[str], content_type: str
) -> None:
    after = world.repo("gh", "pay", lifecycle="deprecated").head()
    answer = post_form(world, form_of(github_push(101, after=after)), content_type=content_type)
    assert flask_requests == []  # answered in front of Flask, as a JSON delivery is
    assert world.lifecycle("pay") == "production"  # the answer did no git work
    world.assert_push_read_by_next_pass(answer, PAY, after)
    assert world.lifecycle("pay") == "deprecated"


def test_a_form_encoded_ping_is_answered(world: World, flask_requests: list[str]) -> None:
    answer = post_form(world, form_of({"zen": "Design for failure.", "hook_id": 1}), "ping")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"accepted": True}
    assert flask_requests == []


def test_a_form_with_a_bad_signature_is_refused_and_nothing_is_scheduled(
    world: World, flask_requests: list[str]
) -> None:
    after = world.repo("gh", "pay", lifecycle="deprecated").head()
    document = github_push(101, after=after)
    wrong = post_form(world, form_of(document), secret="some-other-secret-0123456789")
    assert wrong.status_code == 401
    assert "does not match" in message(wrong)
    # The signature is of the bytes sent, the form: one of the JSON inside it does not stand in for it.
    headers = github_headers(SECRET, body_of(document), "push") | {"Content-Type": FORM}
    inner = world.client.post("/api/webhooks/github", data=form_of(document), headers=headers)
    assert inner.status_code == 401
    assert flask_requests == ["/api/webhooks/github"] * 2  # refusals are the view's to answer
    assert_nothing_scheduled(world)
    assert world.sync_due().repositories == 0
    assert world.lifecycle("pay") == "production"
    signed = post_form(world, form_of(document))  # the same form, signed as sent
    assert signed.status_code == 202, signed.get_json()
    assert world.row(PAY)["pushed_commit"] == after


PUSH = json.dumps(github_push(101, after="a" * 40))


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "no payload field"),
        (urlencode({"zen": PUSH}).encode(), "no payload field"),
        (urlencode([("payload", PUSH), ("payload", PUSH)]).encode(), "2 payload fields"),
        (urlencode([("payload", PUSH), ("hook_id", "1")]).encode(), "other than payload ('hook_id')"),
        (b"&".join([b"payload=%7B%7D"] + [b"x=1"] * 5), "more than 4 fields"),
        (b"payload=%7B%22ref%22%3A%2", "two hexadecimal digits"),
        (b"payload=%7B%ZZ%7D", "two hexadecimal digits"),
        (b'payload={"ref":"refs/heads/m\xc3\xa9"}', "outside ASCII"),
        (b"payload=%7B%22ref%22%3A%22%FF%22%7D", "not UTF-8"),
        (b"payload", "name=value"),
        (b"payload=%7B%7D&", "name=value"),
        (b"payload=", "payload field is not valid JSON"),
        (b"payload=%7Bnot+json", "payload field is not valid JSON"),
        (b"payload=%5B1%2C+2%5D", "payload field must be a JSON object"),
        (b"payload=" + b"%5B" * 200 + b"%5D" * 200, "deeper"),
    ],
)
def test_a_broken_form_is_refused_naming_what_is_wrong(
    small_world: World, body: bytes, fragment: str
) -> None:
    answer = post_form(small_world, body)
    assert answer.status_code == 400, answer.get_json()
    assert fragment in message(answer)
    assert_nothing_scheduled(small_world)


def test_a_form_encoded_push_with_a_broken_field_is_refused_naming_it(small_world: World) -> None:
    answer = post_form(small_world, form_of(github_push(101, after="a" * 40) | {"after": "not-a-commit"}))
    assert answer.status_code == 400, answer.get_json()
    assert "after" in message(answer)
    assert_nothing_scheduled(small_world)


def test_another_content_type_is_refused_naming_the_types_each_webhook_reads(small_world: World) -> None:
    document = gitlab_push(7, after="a" * 40)
    lab = small_world.client.post(
        "/api/webhooks/gitlab",
        data=form_of(document),
        headers=gitlab_headers(LAB_TOKEN, "Push Hook") | {"Content-Type": FORM},
    )
    assert lab.status_code == 415
    assert message(lab) == "the delivery's content type must be application/json"  # GitLab sends JSON only
    hub = post_form(small_world, body_of(github_push(101, after="a" * 40)), content_type="text/plain")
    assert hub.status_code == 415
    assert message(hub) == f"the delivery's content type must be application/json or {FORM}"
    assert_nothing_scheduled(small_world)
