"""Bearer tokens: who may change the catalog, and (when configured) who may read it.

Write endpoints are marked with ``@writes``; one ``before_request`` hook checks the token before the
view runs, so a refused request changes nothing. Tokens are compared in constant time against every
configured token. A write with no tokens configured is refused too, with a message saying how to
configure them: an API that accepts anonymous writes because someone forgot a setting is worse than
one that refuses them.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request

from catalog_sync.config import ApiSettings
from plugin_api.errors import refuse

F = TypeVar("F", bound=Callable[..., Any])

SECURITY_SCHEME = "bearerAuth"
"""The name of the OpenAPI security scheme write endpoints declare."""
_WRITES_ATTRIBUTE = "_catalog_sync_writes"
_OPEN_ENDPOINTS = frozenset(
    {
        "health.healthz",
        "health.readyz",
        "webhooks.receive_github",
        "webhooks.receive_gitlab",
        "editor_schemas.get_schema",
    }
)
"""Probes stay open even when reads need a token: a kubelet has no token. Webhooks too: GitHub and
GitLab cannot send one, and each delivery is checked against its own secrets (``plugin_api.webhooks``).
So do the editors' JSON Schemas: an editor sends no token, and a schema holds nothing of the catalog."""


def writes(view: F) -> F:
    """Mark a view as changing the catalog, so it needs a token whatever ``read_requires_token`` says."""
    setattr(view, _WRITES_ATTRIBUTE, True)
    docs = getattr(view, "_apidoc", None)
    if isinstance(docs, dict):
        docs.setdefault("manual_doc", {}).setdefault("security", [{SECURITY_SCHEME: []}])
    return view


def is_write(view: Callable[..., Any] | None) -> bool:
    """Whether a view was marked with ``@writes``."""
    return bool(view is not None and getattr(view, _WRITES_ATTRIBUTE, False))


def token_matches(presented: str, tokens: tuple[str, ...]) -> bool:
    """Constant-time comparison against every configured token (no early exit on a match)."""
    matched = False
    candidate = presented.encode()
    for token in tokens:
        matched |= hmac.compare_digest(candidate, token.encode())
    return matched


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, None when there is none."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def check_request(settings: ApiSettings) -> None:
    """Refuse the current request with 401 when it needs a token and does not carry a valid one."""
    if request.method == "OPTIONS" or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    needs_token = is_write(view) or (settings.read_requires_token and request.endpoint not in _OPEN_ENDPOINTS)
    if not needs_token:
        return
    challenge = {"WWW-Authenticate": 'Bearer realm="catalog-sync"'}
    if not settings.tokens:
        refuse(
            401,
            "this endpoint needs a bearer token, and no tokens are configured: set api.tokens in the "
            "configuration or CATALOG_SYNC_API_TOKENS in the environment",
            headers=challenge,
        )
    token = bearer_token()
    if token is None:
        refuse(401, "missing bearer token: send Authorization: Bearer <token>", headers=challenge)
    if not token_matches(token, settings.tokens):
        refuse(401, "invalid bearer token", headers=challenge)


def install_auth(app: Flask, settings: ApiSettings) -> None:
    """Check tokens before any view runs."""
    app.before_request(lambda: check_request(settings))
