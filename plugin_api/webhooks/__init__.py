"""``POST /api/webhooks/github`` and ``POST /api/webhooks/gitlab``: pushes made visible in a second.

A delivery is checked (``intake``: length, token or signature, then type and JSON), read into plain
data (``github``, ``gitlab``), and handed to ``WebhookIntake.record_delivery``, which remembers its id,
applies it and wakes the workers in one transaction. The answer does no git and no hosting-API work, so
it comes in milliseconds; the sync loop reads the repository at the pushed commit. A process that dies
right after answering has lost nothing: the delivery is in the database, and any worker reads it.

These endpoints authenticate by their own secrets (``webhooks.*``), never by the API's bearer tokens:
GitHub and GitLab cannot send one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, request

from catalog_sync.config import GitHubSourceSettings, GitLabSourceSettings
from catalog_sync.metrics import count_delivery
from catalog_sync.store.webhook_events import ACCEPTED, DUPLICATE, Delivery, Lifecycle, Push
from plugin_api.schemas.webhooks import WebhookAnswerSchema
from plugin_api.smorest import api_blueprint
from plugin_api.state import state
from plugin_api.webhooks import github, gitlab
from plugin_api.webhooks.intake import (
    SIGNATURE_HEADER,
    TOKEN_HEADER,
    Refusal,
    check_length,
    check_signature,
    check_token,
    delivery_id,
    parse_json,
    read_body,
)
from plugin_api.webhooks.payload import PayloadError

log = logging.getLogger(__name__)

blp = api_blueprint("webhooks", __name__, "Push webhooks from GitHub and GitLab: a push read at once")

ENDPOINTS = frozenset({"webhooks.receive_github", "webhooks.receive_gitlab"})
"""Open to callers without a bearer token, with their own body limit (``webhooks.max_body_bytes``)."""
GITHUB_EVENT_HEADER = "X-GitHub-Event"
GITLAB_EVENT_HEADER = "X-Gitlab-Event"
GITHUB_ID_HEADERS = ("X-GitHub-Delivery", "Idempotency-Key")
GITLAB_ID_HEADERS = ("Idempotency-Key", "X-Gitlab-Event-UUID")
F = TypeVar("F", bound=Callable[..., Any])
Reader = Callable[[str, dict[str, Any]], tuple[Push | Lifecycle | None, str | None]]

_RESPONSES: dict[str, Any] = {
    "400": {"description": "malformed JSON, a missing or wrong field (named), an unknown event"},
    "401": {"description": "the signature or token is missing or matches no configured secret"},
    "413": {"description": "the body is over webhooks.max_body_bytes"},
    "415": {"description": "the body is not application/json"},
}


def _headers(*names: str) -> list[dict[str, Any]]:
    return [{"in": "header", "name": n, "required": False, "schema": {"type": "string"}} for n in names]


def _document(
    event_header: str, id_headers: tuple[str, ...], auth_header: str, events: tuple[str, ...]
) -> Callable[[F], F]:
    return blp.doc(
        parameters=_headers(event_header, auth_header, *id_headers),
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": f"the host's payload; {event_header} one of: {', '.join(events)}",
        },
        responses=_RESPONSES,
    )


@blp.route("/github", methods=["POST"])
@_document(GITHUB_EVENT_HEADER, GITHUB_ID_HEADERS, SIGNATURE_HEADER, github.EVENTS)
@blp.response(
    202,
    WebhookAnswerSchema,
    description="accepted (the repository is read at `after` now), or ignored with why",
)
@blp.alt_response(
    200, schema=WebhookAnswerSchema, description="a ping, or a delivery already received (duplicate)"
)
def receive_github() -> Response:
    """A GitHub delivery, signed with ``X-Hub-Signature-256`` under a secret of ``webhooks.github``."""
    settings = state().settings.webhooks
    event = request.headers.get(GITHUB_EVENT_HEADER, "")
    fail = Refusal(github.PROVIDER, event if event in github.EVENTS else "other")
    check_length(settings.max_body_bytes, fail)
    body = read_body(settings.max_body_bytes, fail)
    check_signature(body, settings.github_secrets, fail)
    return _receive(github.PROVIDER, event, github.EVENTS, GITHUB_ID_HEADERS, body, github.read_event, fail)


@blp.route("/gitlab", methods=["POST"])
@_document(GITLAB_EVENT_HEADER, GITLAB_ID_HEADERS, TOKEN_HEADER, gitlab.EVENTS)
@blp.response(
    202,
    WebhookAnswerSchema,
    description="accepted (the repository is read at `after` now), or ignored with why",
)
@blp.alt_response(200, schema=WebhookAnswerSchema, description="a delivery already received (duplicate)")
def receive_gitlab() -> Response:
    """A GitLab delivery, carrying a token of ``webhooks.gitlab`` in ``X-Gitlab-Token``."""
    settings = state().settings.webhooks
    event = request.headers.get(GITLAB_EVENT_HEADER, "")
    label = {"Push Hook": "push", "System Hook": "system"}.get(event, "other")
    fail = Refusal(gitlab.PROVIDER, label)
    check_length(settings.max_body_bytes, fail)
    check_token(settings.gitlab_tokens, fail)
    body = read_body(settings.max_body_bytes, fail)
    return _receive(gitlab.PROVIDER, event, gitlab.EVENTS, GITLAB_ID_HEADERS, body, gitlab.read_event, fail)


def _receive(
    provider: str,
    event: str,
    events: tuple[str, ...],
    id_headers: tuple[str, ...],
    body: bytes,
    read: Reader,
    fail: Refusal,
) -> Response:
    """The authenticated part: the event, the JSON, what it asks, and the one store operation."""
    header = GITHUB_EVENT_HEADER if provider == github.PROVIDER else GITLAB_EVENT_HEADER
    if not event:
        fail(400, f"missing {header}: the host names the event in it")
    if event not in events:
        shown = event if len(event) <= 64 and event.isprintable() else "(unreadable)"
        fail(400, f"{header} {shown!r} is not handled: subscribe the webhook to {', '.join(events)} only")
    document = parse_json(body, fail)
    identifier = delivery_id(id_headers, body, fail)
    try:
        action, ignored = read(event, document)
    except PayloadError as exc:
        fail(400, f"the {event} delivery cannot be read: {exc}")
    app_state = state()
    delivery = Delivery(provider, identifier, event, app_state.clock(), action, ignored)
    keeping = _sources_keeping_archived()
    outcome = app_state.webhooks.record_delivery(
        delivery,
        keep_seconds=app_state.settings.webhooks.keep_deliveries_seconds,
        sources_keeping_archived=keeping,
    )
    count_delivery(provider, fail.event, outcome.result)
    log.info("%s %s delivery %s: %s", provider, event, identifier, outcome.result)
    if outcome.woke and app_state.sync_trigger is not None:
        app_state.sync_trigger()
    if outcome.result == DUPLICATE:
        return _answer(200, {"duplicate": True})
    if outcome.result != ACCEPTED:
        return _answer(202, {"ignored": outcome.reason or "nothing to do"})
    if action is None:
        return _answer(200, {"accepted": True})
    return _answer(202, {"accepted": True, "repositories": list(outcome.repository_ids)})


def _sources_keeping_archived() -> frozenset[str]:
    """Sources configured with ``archived: true``: an ``archived`` event orphans nothing of theirs."""
    return frozenset(
        s.name
        for s in state().settings.sources
        if isinstance(s, GitHubSourceSettings | GitLabSourceSettings) and s.filters.archived
    )


def _answer(status: int, document: dict[str, Any]) -> Response:
    """The answer document (``WebhookAnswerSchema`` describes it; built directly, as it is this
    small, so the answer costs no serialisation pass nor the app's JSON provider)."""
    return Response(json.dumps(document, separators=(",", ":")), status, mimetype="application/json")
