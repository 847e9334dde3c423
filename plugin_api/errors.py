"""Every error the API answers, in Backstage's shape, whatever raised it.

Backstage's clients (``ResponseError.fromResponse``) read ``error.name`` and ``error.message`` from
``{"error": {...}, "request": {...}, "response": {"statusCode": N}}``; answering every failure in that
shape (our refusals, malformed input, unknown routes, wrong methods, bugs) means a client shows the
real reason instead of "unexpected response". Bad input is always a 4xx with a message naming the
parameter; a bug is a 500 that says nothing of the code (the traceback goes to the log only).

Every answer is built by ``error_body``, which passes the message and the request's URL through
``redact``: whatever raised the error and whatever text it carries (a clone's stderr, a URL a client
sent, a value a validator echoed), a credential in it never reaches a response.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NoReturn

from flask import Flask, Response, current_app, json, request
from webargs.flaskparser import abort
from werkzeug.exceptions import HTTPException

from catalog_sync.errors import (
    CatalogSyncError,
    ConflictError,
    CorruptDatabaseError,
    HeavyQueryError,
    NotFoundError,
    QueryError,
    RefError,
    SourceError,
    StoreError,
)
from catalog_sync.sources.urls import redact

log = logging.getLogger(__name__)

ERROR_NAMES = {
    400: "InputError",
    401: "AuthenticationError",
    403: "NotAllowedError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    406: "NotAcceptableError",
    409: "ConflictError",
    413: "PayloadTooLargeError",
    415: "UnsupportedMediaTypeError",
    500: "Error",
    501: "NotImplementedError",
    503: "ServiceUnavailableError",
}
"""Backstage's error names (``@backstage/errors``) by status, plus plain names where it has none."""


def refuse(status: int, message: str, *, headers: Mapping[str, str] | None = None) -> NoReturn:
    """Stop the request with an HTTP refusal decided in this layer (bad token, body too large, ...).

    The refusal is werkzeug's exception for ``status`` carrying the message and headers the way
    flask-smorest's ``abort`` does, so one handler answers it in Backstage's shape.
    """
    abort(status, message=message, headers=dict(headers or {}))


def error_name(status: int) -> str:
    """The Backstage name for a status code; ``Error`` for those it does not name."""
    return ERROR_NAMES.get(status, "Error")


def error_body(status: int, message: str, name: str | None = None) -> dict[str, Any]:
    """The Backstage error document for the current request, credentials removed from its text."""
    return {
        "error": {"name": name or error_name(status), "message": redact(message)},
        "request": {"method": request.method, "url": _request_url()},
        "response": {"statusCode": status},
    }


def error_response(
    status: int, message: str, *, name: str | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """A complete error response, JSON whatever the client accepts."""
    response = Response(
        json.dumps(error_body(status, message, name)), status=status, mimetype="application/json"
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def status_of(error: CatalogSyncError) -> int:
    """How the engine's refusals map to HTTP statuses."""
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, HeavyQueryError):
        return 400
    if isinstance(error, StoreError):
        return 503
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, QueryError | SourceError | RefError):
        return 400
    return 400


def message_of(error: CatalogSyncError) -> str:
    """The refusal's message (a database failure never shows its details, except that the file is
    damaged and which: nothing else tells an operator what to restore); redacted where it is shown."""
    if isinstance(error, CorruptDatabaseError):
        return str(error)
    if isinstance(error, HeavyQueryError):
        return error.message
    if isinstance(error, StoreError) and not isinstance(error, NotFoundError):
        return "the catalog database is unavailable; try again shortly"
    if isinstance(error, QueryError):
        return f"invalid {error.parameter}: {error.message}"
    return str(error)


def flatten_messages(messages: Any, prefix: str = "") -> list[str]:
    """marshmallow/webargs error dicts as ``field: message`` lines, so a 400 names what was wrong."""
    if isinstance(messages, Mapping):
        out: list[str] = []
        for key, value in messages.items():
            name = str(key)
            if name in ("json", "query", "querystring", "view_args", "path", "_schema") and not prefix:
                out.extend(flatten_messages(value, ""))
            else:
                out.extend(flatten_messages(value, f"{prefix}.{name}" if prefix else name))
        return out
    if isinstance(messages, list | tuple):
        out = []
        for item in messages:
            out.extend(flatten_messages(item, prefix))
        return out
    text = str(messages)
    return [f"{prefix}: {text}" if prefix else text]


def handle_http_exception(error: HTTPException) -> Response:
    """Werkzeug's and webargs' errors (404, 405, 413, validation) in Backstage's shape.

    The ``Allow`` header of a 405 is kept, so a client can see which methods the route has.
    """
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    message = data.get("message") if isinstance(data, Mapping) else None
    details = data.get("messages") or data.get("errors") if isinstance(data, Mapping) else None
    if details:
        message = "; ".join(flatten_messages(details))
    if status == 422:
        status = 400
    if not message:
        message = _default_message(status, error)
    headers = {key: value for key, value in error.get_headers() if key.lower() == "allow"}
    extra = data.get("headers") if isinstance(data, Mapping) else None
    if isinstance(extra, Mapping):
        headers.update(extra)
    if status >= 500:
        original = getattr(error, "original_exception", None)
        if original is not None:
            log.error("unhandled error answering %s %s", request.method, request.path, exc_info=original)
        message = "the server failed to answer this request; the details are in its log"
    return error_response(status, message, headers=headers)


HTML_ERRORS_KEY = "catalog_sync.html_errors"
"""Where an app keeps the function that renders an error as a page for people (the portal's, when it
is registered): ``(status, message, headers) -> Response``."""


def prefers_html() -> bool:
    """Whether the client asked for HTML before JSON: a browser does (``text/html`` first, JSON only
    through ``*/*``); an API client sending ``application/json``, ``*/*`` or nothing does not."""
    return request.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html"


def answer_error(status: int, message: str, *, headers: Mapping[str, str] | None = None) -> Response:
    """An error as the client reads it: a page for a browser when the app has the portal, else
    Backstage's JSON shape."""
    render = current_app.extensions.get(HTML_ERRORS_KEY)
    if render is not None and prefers_html():
        response: Response = render(status, message, headers or {})
        return response
    return error_response(status, message, headers=headers)


def answer_http_exception(error: HTTPException) -> Response:
    """Werkzeug's and webargs' errors as ``handle_http_exception`` words them: a page for a browser
    when the portal is registered, else the JSON."""
    json_answer = handle_http_exception(error)
    if not (prefers_html() and HTML_ERRORS_KEY in current_app.extensions):
        return json_answer
    body = json_answer.get_json(silent=True) or {}
    message = str((body.get("error") or {}).get("message") or error.description)
    kept = {key: value for key, value in json_answer.headers.items() if key.lower() != "content-type"}
    kept.pop("Content-Length", None)
    return answer_error(json_answer.status_code, message, headers=kept)


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on an app, so no error escapes as a traceback: JSON for API clients, a page
    for a browser (by ``Accept``) when the portal is registered."""

    @app.errorhandler(CatalogSyncError)
    def _engine_error(error: CatalogSyncError) -> Response:
        status = status_of(error)
        if status == 503:
            log.warning("database failure answering %s %s: %s", request.method, request.path, error)
        return answer_error(status, message_of(error))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return answer_http_exception(error)
        log.error("unhandled error answering %s %s", request.method, request.path, exc_info=error)
        return answer_error(500, "the server failed to answer this request; the details are in its log")


def _default_message(status: int, error: HTTPException) -> str:
    if status == 404:
        return f"no such route: {request.method} {request.path}"
    if status == 405:
        allowed = sorted(getattr(error, "valid_methods", None) or [])
        return f"{request.method} is not allowed on {request.path}; allowed: {', '.join(allowed)}"
    if status == 413:
        return "the request body is larger than api.max_body_bytes allows"
    if status == 400:
        return "the request could not be read"
    return str(error.description or error.name)


def _request_url() -> str:
    query = request.query_string.decode("utf-8", "replace")
    return redact(f"{request.path}?{query}" if query else request.path)
