"""Request hooks: timing and counting for observers, CORS for the portal's origins, the body limit.

Observers are plain callables on ``app.extensions["catalog_sync.observers"]``, each given one
``RequestRecord`` per answered request; the metrics module appends its Prometheus recorder there, tests
append a list's ``append``. The route recorded is the URL rule (``/api/repositories/<int:repository_id>``),
never the raw path, so a metric's label set stays bounded however clients spell their URLs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, g, request
from flask.sansio.app import App

from catalog_sync.config import ApiSettings
from plugin_api.errors import refuse

log = logging.getLogger(__name__)

OBSERVERS_KEY = "catalog_sync.observers"
UNMATCHED_ROUTE = "<unmatched>"
"""The route label of requests that matched no route (404s), whatever their path."""
CORS_ALLOWED_HEADERS = "Authorization, Content-Type"
CORS_ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"
CORS_MAX_AGE_SECONDS = "600"


@dataclass(frozen=True)
class RequestRecord:
    """One answered request, as observers see it."""

    method: str
    route: str
    status: int
    duration_seconds: float


Observer = Callable[[RequestRecord], None]


def observers(app: App) -> list[Observer]:
    """The app's observer list, to append to (also from a blueprint's setup, hence ``App``)."""
    found: list[Observer] = app.extensions.setdefault(OBSERVERS_KEY, [])
    return found


def install_observers(app: Flask) -> None:
    """Time every request and hand the record to each observer; an observer's failure is only logged."""
    observers(app)

    @app.before_request
    def _start_timer() -> None:
        g.catalog_sync_started = time.perf_counter()

    @app.after_request
    def _notify(response: Response) -> Response:
        started = g.get("catalog_sync_started")
        duration = time.perf_counter() - started if started is not None else 0.0
        rule = request.url_rule
        record = RequestRecord(
            request.method, rule.rule if rule is not None else UNMATCHED_ROUTE, response.status_code, duration
        )
        notify_observers(app, record)
        return response


def notify_observers(app: App, record: RequestRecord) -> None:
    """Hand one answered request to every observer (also for requests answered in front of Flask,
    such as the webhooks' fast path); an observer's failure is only logged."""
    for observer in list(observers(app)):
        try:
            observer(record)
        except Exception:
            log.exception("request observer %r failed", observer)


def install_body_limit(
    app: Flask, settings: ApiSettings, *, own_limits: frozenset[str] = frozenset()
) -> None:
    """Refuse bodies over ``api.max_body_bytes`` with 413 before anything reads them.

    A declared ``Content-Length`` is checked up front; a body sent without one (chunked) is cut off
    by Flask's own ``MAX_CONTENT_LENGTH`` as it is read. The endpoints of ``own_limits`` check their
    bodies against a limit of their own (the webhooks: ``webhooks.max_body_bytes``).
    """
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes

    @app.before_request
    def _check_length() -> None:
        if request.endpoint in own_limits:
            return
        length = request.content_length
        if length is not None and length > settings.max_body_bytes:
            refuse(
                413,
                f"the request body has {length} bytes; at most {settings.max_body_bytes} "
                "are accepted (api.max_body_bytes)",
            )
        # Flask stops reading a chunked body at the limit without saying so; a body that reaches the
        # limit is refused rather than handed on cut short.
        chunked = length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        if chunked and len(request.get_data(cache=True)) >= settings.max_body_bytes:
            refuse(
                413,
                f"the request body reaches the limit of {settings.max_body_bytes} bytes (api.max_body_bytes)",
            )


def install_input_guard(app: Flask) -> None:
    """Refuse NUL characters in the URL with 400: PostgreSQL cannot store or compare them, so without
    this a NUL in an id would fail in the database (503) instead of being refused as bad input."""

    @app.before_request
    def _refuse_nul() -> None:
        if "\x00" in request.path or any(
            "\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)
        ):
            refuse(400, "NUL characters are not allowed in the URL")


def install_cors(app: Flask, settings: ApiSettings) -> None:
    """Let the configured origins (``api.cors_origins``, ``*`` for any) call the API from a browser."""
    allowed = set(settings.cors_origins)
    if not allowed:
        return

    @app.after_request
    def _cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if not origin or not ("*" in allowed or origin in allowed):
            return response
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        response.vary.add("Origin")
        response.headers["Access-Control-Expose-Headers"] = "Link"
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            response.headers["Access-Control-Allow-Methods"] = CORS_ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE_SECONDS
        return response
