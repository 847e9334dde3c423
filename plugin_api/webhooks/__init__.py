"""``POST /api/webhooks/github`` and ``POST /api/webhooks/gitlab``: pushes made visible in a second.

A delivery is checked (``intake``: length, token or signature, then type and JSON, which GitHub may
send as a form's ``payload`` field), read into plain data (``github``, ``gitlab``), and handed to
``WebhookIntake.record_delivery``, which remembers its id, applies it and wakes the workers in one
transaction (``receive`` holds both steps). The views below
are the API's description of the two endpoints and answer every refusal; an accepted delivery is
answered by the WSGI fast path in front of Flask (``fastpath``), with the same code and metrics, at a
fraction of the cost. The answer does no git and no hosting-API work, so
it comes in milliseconds; the sync loop reads the repository at the pushed commit. A process that dies
right after answering has lost nothing: the delivery is in the database, and any worker reads it.

These endpoints authenticate by their own secrets (``webhooks.*``), never by the API's bearer tokens:
GitHub and GitLab cannot send one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, request

from catalog_sync.metrics import count_delivery
from catalog_sync.store.webhook_events import IGNORED
from plugin_api.errors import refuse
from plugin_api.schemas.webhooks import WebhookAnswerSchema
from plugin_api.smorest import api_blueprint
from plugin_api.state import state
from plugin_api.webhooks.intake import FORM_FIELD, FORM_TYPE, SIGNATURE_HEADER, TOKEN_HEADER, Refused, Unread
from plugin_api.webhooks.receive import GITHUB, GITLAB, Route, read_delivery, record_delivery

blp = api_blueprint("webhooks", __name__, "Push webhooks from GitHub and GitLab: a push read at once")
ACCEPTED_OR_IGNORED = (
    "accepted (the repository is read at `after` now, unless the commit read already holds it; one "
    "no source lists yet has the sources that would list it asked to list at once), or ignored with why"
)
"""The 202 answer of both webhooks, as the OpenAPI description tells it."""

ENDPOINTS = frozenset({"webhooks.receive_github", "webhooks.receive_gitlab"})
"""Open to callers without a bearer token, with their own body limit (``webhooks.max_body_bytes``)."""
F = TypeVar("F", bound=Callable[..., Any])

_FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {FORM_FIELD: {"type": "string", "description": "the payload, as JSON"}},
    "required": [FORM_FIELD],
    "additionalProperties": False,
}
"""GitHub's form delivery: one field, ``payload``, holding what a JSON delivery's body holds."""


def _headers(*names: str) -> list[dict[str, Any]]:
    return [{"in": "header", "name": n, "required": False, "schema": {"type": "string"}} for n in names]


def _responses(route: Route) -> dict[str, Any]:
    """The refusals, the 415 naming the content types this route reads."""
    broken = ", a form that is not exactly one payload field" if FORM_TYPE in route.content_types else ""
    return {
        "400": {"description": f"malformed JSON{broken}, a missing or wrong field (named), an unknown event"},
        "401": {"description": "the signature or token is missing or matches no configured secret"},
        "413": {"description": "the body is over webhooks.max_body_bytes"},
        "415": {"description": f"the body is not {' or '.join(route.content_types)}"},
    }


def _document(route: Route, auth_header: str) -> Callable[[F], F]:
    content = {
        kind: {"schema": _FORM_SCHEMA if kind == FORM_TYPE else {"type": "object"}}
        for kind in route.content_types
    }
    return blp.doc(
        parameters=_headers(route.event_header, auth_header, *route.id_headers),
        requestBody={
            "required": True,
            "content": content,
            "description": f"the host's payload; {route.event_header} one of: {', '.join(route.events)}",
        },
        responses=_responses(route),
    )


@blp.route("/github", methods=["POST"])
@_document(GITHUB, SIGNATURE_HEADER)
@blp.response(
    202,
    WebhookAnswerSchema,
    description=ACCEPTED_OR_IGNORED,
)
@blp.alt_response(
    200,
    schema=WebhookAnswerSchema,
    description="a ping, or a delivery already received and acted on (duplicate)",
)
def receive_github() -> Response:
    """A GitHub delivery, signed with ``X-Hub-Signature-256`` under a secret of ``webhooks.github``."""
    return _receive(GITHUB)


@blp.route("/gitlab", methods=["POST"])
@_document(GITLAB, TOKEN_HEADER)
@blp.response(
    202,
    WebhookAnswerSchema,
    description=ACCEPTED_OR_IGNORED,
)
@blp.alt_response(
    200, schema=WebhookAnswerSchema, description="a delivery already received and acted on (duplicate)"
)
def receive_gitlab() -> Response:
    """A GitLab delivery, carrying a token of ``webhooks.gitlab`` in ``X-Gitlab-Token``."""
    return _receive(GITLAB)


def _receive(route: Route) -> Response:
    """Read the delivery, refusing it in the API's error shape (counted), else record and answer it."""
    app_state = state()
    try:
        delivery = read_delivery(route, request, app_state)
    except Unread as unread:
        count_delivery(unread.provider, unread.event, IGNORED)
        return _answer(202, {"ignored": unread.message})
    except Refused as refused:
        count_delivery(refused.provider, refused.event, refused.result)
        refuse(refused.status, refused.message, headers=refused.headers)
    status, document = record_delivery(route, delivery, app_state)
    return _answer(status, document)


def _answer(status: int, document: dict[str, Any]) -> Response:
    """The answer document (``WebhookAnswerSchema`` describes it; built directly, as it is this
    small, so the answer costs no serialisation pass nor the app's JSON provider)."""
    return Response(json.dumps(document, separators=(",", ":")), status, mimetype="application/json")
