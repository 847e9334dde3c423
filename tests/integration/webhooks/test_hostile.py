"""Hostile and broken deliveries: each refused with a clear 4xx naming what is wrong, nothing scheduled,
no secret echoed, and the refusal counted under a bounded label."""

from __future__ import annotations

import io
import json
import logging
import time
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from catalog_sync.metrics import record_pass
from tests.fixtures.hosted import body_of, github_headers, github_push, gitlab_headers, gitlab_push, sign
from tests.integration.webhooks.conftest import LAB_TOKEN, NEXT_SECRET, SECRET, World


def post_github(world: World, body: bytes, headers: dict[str, str]) -> Any:
    return world.client.post("/api/webhooks/github", data=body, headers=headers)


def signed(world: World, body: bytes, event: str = "push", **extra: str) -> Any:
    return post_github(world, body, github_headers(SECRET, body, event) | extra)


def assert_nothing_scheduled(world: World) -> None:
    assert world.pushes_waiting() == 0
    assert world.deliveries() == []


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(small_world: World) -> None:
    body = b"{" + b" " * 5000 + b"}"
    answer = signed(small_world, body)
    assert answer.status_code == 413
    assert "webhooks.max_body_bytes" in answer.get_json()["error"]["message"]
    lab = small_world.client.post(
        "/api/webhooks/gitlab", data=body, headers=gitlab_headers(LAB_TOKEN, "Push Hook")
    )
    assert lab.status_code == 413
    assert_nothing_scheduled(small_world)


def test_a_chunked_body_over_the_limit_is_refused(small_world: World) -> None:
    body = body_of(github_push(101, after="a" * 40) | {"padding": "x" * 5000})
    headers = github_headers(SECRET, body, "push") | {"Transfer-Encoding": "chunked"}
    answer = small_world.client.post(
        "/api/webhooks/github",
        input_stream=io.BytesIO(body),
        headers=headers,
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert answer.status_code == 413
    assert_nothing_scheduled(small_world)


def test_a_body_within_the_webhook_limit_passes_though_the_api_limit_is_lower(small_world: World) -> None:
    after = small_world.repo("gh", "pay", lifecycle="deprecated").head()
    body = body_of(github_push(101, after=after) | {"padding": "x" * 3000})
    assert signed(small_world, body).status_code == 202


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"[1, 2]", "application/json", 400, "JSON object"),
        (b"--x--", "multipart/form-data; boundary=x", 415, "application/json"),
        (b"{}", "text/plain", 415, "application/json"),
        (b"[" * 200 + b"]" * 200, "application/json", 400, "deeper"),
        (b'{"ref": "refs/heads/main\\u0000"}', "application/json", 400, "ref must not contain control"),
        (b"\xff\xfe{}", "application/json", 400, "not valid JSON"),
        (b"\xef\xbb\xbf{}", "application/json", 400, "not valid JSON"),
        (b'"push"', "application/json", 400, "JSON object"),
        (b"42", "application/json", 400, "JSON object"),
        (b"null", "application/json", 400, "JSON object"),
    ],
)
def test_malformed_bodies_are_refused_after_the_signature(
    small_world: World, body: bytes, content_type: str, status: int, fragment: str
) -> None:
    answer = signed(small_world, body, **{"Content-Type": content_type})
    assert answer.status_code == status
    assert fragment in answer.get_json()["error"]["message"]
    assert_nothing_scheduled(small_world)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"after": "not-a-commit"}, "after"),
        ({"after": "A" * 40}, "after"),
        ({"after": 12}, "after"),
        ({"ref": ["refs/heads/main"]}, "ref"),
        ({"ref": "refs/heads/" + "x" * 2000}, "ref"),
        ({"deleted": "yes"}, "deleted"),
        ({"repository": {"id": "101", "url": "https://github.com/acme/pay"}}, "repository.id"),
        ({"repository": {"id": True, "url": "https://github.com/acme/pay"}}, "repository.id"),
        ({"repository": {"id": -1, "url": "https://github.com/acme/pay"}}, "repository.id"),
        ({"repository": {"id": 2**70, "url": "https://github.com/acme/pay"}}, "repository.id"),
        ({"repository": {"id": 101.0, "url": "https://github.com/acme/pay"}}, "repository.id"),
        ({"repository": {"id": 0, "url": "https://github.com/acme/pay"}}, "repository.id"),
        ({"repository": {"id": None, "url": "https://github.com/acme/pay"}}, "repository.id"),
        ({"repository": None}, "repository.url"),
        ({"repository": {"id": 101, "url": "javascript:alert(1)"}}, "repository.url"),
        ({"repository": {"id": 101, "url": "https://[::1"}}, "repository.url"),
        ({"repository": {"id": 101}}, "repository.url"),
        ({"repository": "acme/pay"}, "repository"),
    ],
)
def test_a_push_with_a_broken_field_is_refused_naming_it(
    small_world: World, change: dict[str, Any], field: str
) -> None:
    document = github_push(101, after="a" * 40) | change
    answer = signed(small_world, body_of(document))
    assert answer.status_code == 400, answer.get_json()
    assert field in answer.get_json()["error"]["message"]
    assert_nothing_scheduled(small_world)


@pytest.mark.parametrize(
    ("headers", "status", "fragment"),
    [
        ({"X-GitHub-Event": "issues"}, 400, "not handled"),
        ({"X-GitHub-Event": ""}, 400, "missing X-GitHub-Event"),
        ({"X-GitHub-Event": "push\u00e9" * 50}, 400, "not handled"),
        ({"X-GitHub-Delivery": "x" * 201}, 400, "X-GitHub-Delivery"),
        ({"X-GitHub-Delivery": "has space"}, 400, "X-GitHub-Delivery"),
        ({"X-GitHub-Delivery": ""}, 400, "X-GitHub-Delivery"),
        ({"X-GitHub-Delivery": "id\x7f"}, 400, "X-GitHub-Delivery"),
        ({"X-GitHub-Delivery": "id\tx"}, 400, "X-GitHub-Delivery"),
        ({"X-Hub-Signature-256": "sha1=abc"}, 401, "does not match"),
        ({"X-Hub-Signature-256": "sha256=" + "\u00ff" * 64}, 401, "does not match"),
    ],
)
def test_hostile_headers_are_refused(
    small_world: World, headers: dict[str, str], status: int, fragment: str
) -> None:
    body = body_of(github_push(101, after="a" * 40))
    answer = post_github(small_world, body, github_headers(SECRET, body, "push") | headers)
    assert answer.status_code == status
    assert fragment in answer.get_json()["error"]["message"]
    assert_nothing_scheduled(small_world)


@pytest.mark.parametrize("name", ["X-Gitlab-Event-UUID", "Idempotency-Key"])
@pytest.mark.parametrize("value", ["x" * 201, "u" * 10_000, "has space", "", "id\u00e9", "id\x7f", "id\tx"])
def test_a_gitlab_delivery_id_that_cannot_be_stored_is_refused_naming_its_header(
    small_world: World, name: str, value: str
) -> None:
    # The UUID is stored with a digest of the body: a value it would not fit with is still refused, clearly.
    headers = gitlab_headers(LAB_TOKEN, "Push Hook") | {name: value}
    body = body_of(gitlab_push(7, after="a" * 40))
    answer = small_world.client.post("/api/webhooks/gitlab", data=body, headers=headers)
    assert answer.status_code == 400, answer.get_json()
    assert (
        answer.get_json()["error"]["message"]
        == f"{name} must be 1 to 200 printable characters without spaces"
    )
    assert_nothing_scheduled(small_world)


def test_gitlab_events_not_read_are_answered_ignored_so_gitlab_never_disables_the_hook(
    small_world: World,
) -> None:
    """GitLab disables a hook after four failed deliveries in a row (for good on a 4xx in its releases
    before late 2024): a group hook ticked for merge requests besides pushes would stop the pushes."""

    def ignored() -> float:
        text = small_world.client.get("/metrics").get_data(as_text=True)
        prefix = 'catalog_webhook_deliveries_total{event="other",provider="gitlab",result="ignored"} '
        return next(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))

    before = ignored()
    for event in ("Merge Request Hook", "Merge Request Hook", "Tag Push Hook", "Issue Hook", "Note Hook"):
        answer = small_world.client.post(
            "/api/webhooks/gitlab", data=b"{not json", headers=gitlab_headers(LAB_TOKEN, event)
        )
        assert answer.status_code == 202, answer.get_json()
        assert "subscribe the webhook to Push Hook, System Hook only" in answer.get_json()["ignored"]
    assert ignored() == before + 5
    stranger = small_world.client.post(
        "/api/webhooks/gitlab", data=b"{}", headers=gitlab_headers("not-the-token-0123456789", "Issue Hook")
    )
    assert stranger.status_code == 401  # the token is checked first, whatever the event
    assert_nothing_scheduled(small_world)


def test_broken_gitlab_system_hooks_are_refused(small_world: World) -> None:
    broken = small_world.client.post(
        "/api/webhooks/gitlab",
        data=body_of({"event_name": "project_destroy", "project_id": "7"}),
        headers=gitlab_headers(LAB_TOKEN, "System Hook"),
    )
    assert broken.status_code == 400
    assert "project_id" in broken.get_json()["error"]["message"]
    no_name = small_world.client.post(
        "/api/webhooks/gitlab",
        data=body_of({"project_id": 7}),
        headers=gitlab_headers(LAB_TOKEN, "System Hook"),
    )
    assert no_name.status_code == 400
    assert "event_name" in no_name.get_json()["error"]["message"]
    assert_nothing_scheduled(small_world)


def test_a_gitlab_body_whose_string_never_closes_is_refused_at_once(
    tmp_path: Any, sqlite_engine: Any
) -> None:
    """A body of 45 KB, well within the limit, whose one string never closes over escaped quotes: each
    of them once began a scan to the end (quadratic), ten seconds of CPU, hours for a body of megabytes."""
    world = World(tmp_path, sqlite_engine)
    body = b'{"ref": "' + b'\\"[' * 15_000
    started = time.thread_time()
    headers = gitlab_headers(LAB_TOKEN, "Push Hook")
    answer = world.client.post("/api/webhooks/gitlab", data=body, headers=headers)
    assert time.thread_time() - started < 1.0
    assert answer.status_code == 400
    assert "not valid JSON" in answer.get_json()["error"]["message"]
    assert_nothing_scheduled(world)
    world.engine_sync.close()


def test_the_webhooks_stay_open_when_reading_the_api_needs_a_token(tmp_path: Any, sqlite_engine: Any) -> None:
    world = World(tmp_path, sqlite_engine, api={"read_requires_token": True, "tokens": ["t" * 32]})
    after = world.repo("gh", "pay").head()
    world.sync_all()
    assert world.client.get("/api/repositories").status_code == 401
    assert signed(world, body_of(github_push(101, after=after))).status_code == 202
    world.engine_sync.close()


def test_an_api_bearer_token_does_not_stand_in_for_a_signature(tmp_path: Any, sqlite_engine: Any) -> None:
    world = World(tmp_path, sqlite_engine)
    world.repo("gh", "pay")
    world.sync_all()
    body = body_of(github_push(101, after="a" * 40))
    bearer = {
        "Authorization": "Bearer " + "t" * 32,
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
    }
    assert post_github(world, body, bearer).status_code == 401
    world.engine_sync.close()


@pytest.mark.parametrize("legacy", [False, True])
def test_a_webhook_variable_named_but_unset_is_warned_of_once_and_its_deliveries_get_401(
    tmp_path: Any, sqlite_engine: Any, caplog: pytest.LogCaptureFixture, legacy: bool
) -> None:
    """The variables the file names hold nothing: each is named in one warning at start, with its
    endpoint and never a value, and a delivery signed with what it should have held, or not signed,
    is still refused."""
    caplog.set_level(logging.WARNING, logger="plugin_api")
    environ = {"CATALOG_SYNC_WEBHOOK_SECRET": NEXT_SECRET} if legacy else {}
    hooks = {"github": {"secrets_env": "HOOK_SECRETS"}, "gitlab": {"tokens_env": "LAB_TOKENS"}}
    world = World(tmp_path, sqlite_engine, environ=environ, **hooks)
    try:
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        (github_line,) = [m for m in warned if "HOOK_SECRETS" in m]
        (gitlab_line,) = [m for m in warned if "LAB_TOKENS" in m]
        assert github_line.startswith(
            "webhooks.github.secrets_env names HOOK_SECRETS, which is unset or empty"
        )
        assert "/api/webhooks/github" in github_line
        assert ("CATALOG_SYNC_WEBHOOK_SECRET's secret alone" in github_line) == legacy
        assert gitlab_line.startswith("webhooks.gitlab.tokens_env names LAB_TOKENS, which is unset or empty")
        assert "every delivery to /api/webhooks/gitlab is refused (401)" in gitlab_line
        assert not any(NEXT_SECRET in m for m in warned)

        world.repo("gh", "pay")
        world.repo("gl", "ledger")
        world.sync_all()
        body = body_of(github_push(101, after="a" * 40))
        assert signed(world, body).status_code == 401
        unsigned = {"Content-Type": "application/json", "X-GitHub-Event": "push"}
        assert post_github(world, body, unsigned).status_code == 401
        lab = body_of(gitlab_push(7, after="a" * 40))
        for token in (LAB_TOKEN, None):
            headers = gitlab_headers(token, "Push Hook")
            assert world.client.post("/api/webhooks/gitlab", data=lab, headers=headers).status_code == 401
        assert_nothing_scheduled(world)
    finally:
        world.engine_sync.close()


def test_secrets_and_tokens_appear_in_no_answer_log_or_metric(
    small_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    after = small_world.repo("gh", "pay", lifecycle="deprecated").head()
    body = body_of(github_push(101, after=after))
    texts = [
        signed(small_world, body).get_data(as_text=True),
        post_github(small_world, body, github_headers("wrong-secret-0123456789", body, "push")).get_data(
            as_text=True
        ),
        post_github(
            small_world,
            body,
            github_headers(SECRET, body, "push") | {"X-Hub-Signature-256": sign(NEXT_SECRET, b"x")},
        ).get_data(as_text=True),
        small_world.client.post(
            "/api/webhooks/gitlab",
            data=body_of(gitlab_push(7, after=after)),
            headers=gitlab_headers(LAB_TOKEN, "Push Hook"),
        ).get_data(as_text=True),
        small_world.client.post(
            "/api/webhooks/gitlab", data=b"{}", headers=gitlab_headers(LAB_TOKEN[:-1] + "X", "Push Hook")
        ).get_data(as_text=True),
        small_world.client.get("/metrics").get_data(as_text=True),
        small_world.client.get("/api/openapi.json").get_data(as_text=True),
    ]
    small_world.sync_due()
    everything = "\n".join(texts) + caplog.text + json.dumps(small_world.deliveries(), default=str)
    for secret in (SECRET, NEXT_SECRET, LAB_TOKEN, sign(SECRET, body)):
        assert secret not in everything
    assert "catalog_webhook_deliveries_total" in texts[5]


def test_deliveries_are_counted_by_provider_event_and_result(small_world: World) -> None:
    def counted(provider: str, event: str, result: str) -> float:
        text = small_world.client.get("/metrics").get_data(as_text=True)
        prefix = (
            f'catalog_webhook_deliveries_total{{event="{event}",provider="{provider}",result="{result}"}} '
        )
        return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix)), 0.0)

    before = {r: counted("github", "push", r) for r in ("accepted", "duplicate", "unauthorized", "ignored")}
    other_before = counted("github", "other", "invalid")
    visible_before = _visible_count(small_world)
    after = small_world.repo("gh", "pay", lifecycle="deprecated").head()
    body = body_of(github_push(101, after=after))
    headers = github_headers(SECRET, body, "push")
    post_github(small_world, body, headers)
    post_github(small_world, body, headers)
    post_github(small_world, body, github_headers("wrong-secret-0123456789", body, "push"))
    signed(small_world, body_of(github_push(101, after=after, ref="refs/heads/x")))
    signed(small_world, b"{}", "issues")
    assert counted("github", "push", "accepted") == before["accepted"] + 1
    assert counted("github", "push", "duplicate") == before["duplicate"] + 1
    assert counted("github", "push", "unauthorized") == before["unauthorized"] + 1
    assert counted("github", "push", "ignored") == before["ignored"] + 1
    assert counted("github", "other", "invalid") == other_before + 1
    summary = small_world.sync_due()
    record_pass(summary)  # the hook the CLI runs after each pass
    assert _visible_count(small_world) == visible_before + 1


def test_every_provider_s_delivery_series_show_from_the_start(small_world: World) -> None:
    """An increase over a series counts from its second sample: the first refused delivery of a
    process would be lost to ``CatalogWebhookDeliveriesRefused`` if its series began with it."""
    text = small_world.client.get("/metrics").get_data(as_text=True)
    shown = {
        (sample.labels["provider"], sample.labels["event"], sample.labels["result"])
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "catalog_webhook_deliveries_total"
    }
    events = {"github": ("ping", "push", "repository", "other"), "gitlab": ("push", "system", "other")}
    results = ("accepted", "ignored", "duplicate", "unauthorized", "invalid")
    expected = {(p, e, r) for p, named in events.items() for e in named for r in results}
    assert expected <= shown
    # a duplicate of an event nobody reads cannot happen: its series is there, at zero
    assert 'catalog_webhook_deliveries_total{event="other",provider="gitlab",result="duplicate"} 0.0' in text


def _visible_count(world: World) -> float:
    text = world.client.get("/metrics").get_data(as_text=True)
    return next(
        (
            float(line.split()[-1])
            for line in text.splitlines()
            if line.startswith("catalog_webhook_visible_seconds_count")
        ),
        0.0,
    )


def test_deliveries_are_timed_and_counted_under_their_route_whoever_answers_them(small_world: World) -> None:
    """An accepted delivery is answered before Flask, a refused one by the view: both are counted in
    ``catalog_http_requests_total`` and timed under the URL rule, like every other request."""

    def counted(status: str) -> float:
        text = small_world.client.get("/metrics").get_data(as_text=True)
        labels = f'method="POST",route="/api/webhooks/github",status="{status}"'
        prefix = f"catalog_http_requests_total{{{labels}}} "
        return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix)), 0.0)

    def timed() -> float:
        text = small_world.client.get("/metrics").get_data(as_text=True)
        prefix = 'catalog_http_request_duration_seconds_count{route="/api/webhooks/github"} '
        return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix)), 0.0)

    accepted, refused, durations = counted("202"), counted("401"), timed()
    body = body_of(github_push(101, after="a" * 40))
    answer = post_github(small_world, body, github_headers(SECRET, body, "push"))
    assert answer.status_code == 202
    assert answer.headers["Content-Type"] == "application/json"
    wrong = post_github(small_world, body, github_headers("wrong-secret-0123456789", body, "push"))
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith("HMAC")
    assert counted("202") == accepted + 1
    assert counted("401") == refused + 1
    assert timed() == durations + 2


@pytest.mark.parametrize(
    "extra",
    [{"query_string": "x=1"}, {"headers": {"Origin": "https://portal.example"}}],
    ids=["query-string", "origin"],
)
def test_a_delivery_of_another_shape_is_answered_the_same_by_the_view(
    small_world: World, extra: dict[str, Any]
) -> None:
    body = body_of(github_push(101, after="b" * 40))
    headers = github_headers(SECRET, body, "push") | extra.get("headers", {})
    answer = small_world.client.post(
        "/api/webhooks/github", data=body, headers=headers, query_string=extra.get("query_string")
    )
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert answer.get_json()["accepted"] is True
    assert small_world.pushes_waiting() == 1
