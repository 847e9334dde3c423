"""Error pages: a person in a browser gets a page that says what was wrong, never JSON or a traceback.

The handlers are the blueprint's own, so they answer only for portal pages (Flask asks a request's
blueprint before the app): the API keeps answering in Backstage's JSON shape. They also catch what
the app's request hooks refuse before a page's view runs, such as the 401 of
``api.read_requires_token``, which comes with a short page saying how to send a token. Statuses
and messages are the API's (``plugin_api.errors``), so the page and the API never disagree. Every page
is built by ``error_page``, which passes its text through ``redact``, so no credential is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Response, make_response, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException

from catalog_sync.errors import CatalogSyncError, NotFoundError, QueryError
from catalog_sync.sources.urls import redact
from plugin_api.errors import HTML_ERRORS_KEY, message_of, status_of
from plugin_api.portal.blueprint import blp
from plugin_api.portal.common import render

log = logging.getLogger(__name__)

TITLES = {
    400: "This page cannot be shown for these parameters",
    401: "A token is needed to read the catalog",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    500: "Something went wrong",
    503: "The catalog is unavailable",
}


def error_page(
    status: int, message: str, *, hint: str | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """An HTML page for a refusal: its title, the message naming what was wrong, and what to do."""
    hint = hint or default_hint(status)
    body = render(
        "error.html",
        status=status,
        title=TITLES.get(status, "The request could not be answered"),
        message=redact(message),
        hint=redact(hint) if hint else None,
        path=redact(request.path),
    )
    response = make_response(body, status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def default_hint(status: int) -> str | None:
    """What a reader can do about each kind of refusal."""
    if status == 400:
        return "Change the filter or start again from the first page of the list."
    if status == 401:
        return (
            "This catalog is configured with api.read_requires_token, so every page needs "
            "an Authorization: Bearer <token> header with one of the tokens of api.tokens "
            "(CATALOG_SYNC_API_TOKENS). A browser does not send one by itself: open the portal "
            "through a proxy that adds the header, or ask the operators for access."
        )
    if status == 404:
        return "The link may be out of date: the catalog changes with every sync."
    if status == 503:
        return "Try again in a moment."
    return None


def page_for_browser(status: int, message: str, headers: Mapping[str, str]) -> Response:
    """An error outside the portal's pages, answered to a browser (``plugin_api.errors.answer_error``):
    the same page as the portal's own, so ``GET /nope`` in a browser reads as a page, not JSON."""
    if status == 404 and message.startswith("no such route"):
        message = f"There is no page at {request.path}."
    if status >= 500:
        message = "The server failed to answer this page; the details are in its log."
    return error_page(status, message, headers=headers)


@blp.record_once
def _install(setup: BlueprintSetupState) -> None:
    """Let the app answer a browser's errors with pages, wherever they happen."""
    setup.app.extensions[HTML_ERRORS_KEY] = page_for_browser


@blp.errorhandler(CatalogSyncError)
def _engine_error(error: CatalogSyncError) -> Response:
    status = status_of(error)
    if status == 503:
        log.warning("database failure answering %s %s: %s", request.method, request.path, error)
    if isinstance(error, QueryError):
        return error_page(400, f"{error.parameter}: {error.message}")
    if isinstance(error, NotFoundError):
        return error_page(404, str(error))
    return error_page(status, message_of(error))


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None)
    data = data if isinstance(data, Mapping) else {}
    message = data.get("message") or error.description or error.name
    headers = data.get("headers") if isinstance(data.get("headers"), Mapping) else {}
    if status == 404 and not data.get("message"):
        message = f"There is no page at {request.path}."
    if status >= 500:
        log.error("error answering %s %s: %s", request.method, request.path, error)
        message = "The server failed to answer this page; the details are in its log."
    return error_page(status, str(message), headers=headers)


@blp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.error("unhandled error answering %s %s", request.method, request.path, exc_info=error)
    return error_page(500, "The server failed to answer this page; the details are in its log.")
