"""The webhooks' fast path: an accepted delivery answered in front of Flask, at a fraction of the cost.

A host delivering pushes from a busy organisation sends many at once, and each answer must come within
milliseconds (SPEC section 8: p99 <= 50 ms). Through Flask, a delivery paid for the request context,
URL matching, every ``before_request`` and ``after_request`` hook and flask-smorest's wrappers: about
as much CPU as reading and recording the delivery itself. ``WebhookFastPath`` wraps the app's WSGI
callable and takes a ``POST`` to either webhook URL, without a query string or an ``Origin``, and runs
the same two steps as the views (``receive.read_delivery``, ``receive.record_delivery``), so the
delivery is checked, recorded, counted, logged and timed (``catalog_http_*`` under its URL rule)
exactly as before.

Only a delivery that is answered with 2xx is answered here. Anything else, a refusal (401, 413, 400,
...), a database failure, or a request of another shape, goes on to Flask with its body as it arrived,
and the views answer it in the API's error shape, counted once: every refusal has one implementation.
A delivery handed on after its group failed is tried once more by the view; its id makes that safe.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from plugin_api.hooks import RequestRecord, notify_observers
from plugin_api.state import STATE_KEY
from plugin_api.webhooks.receive import GITHUB, GITLAB, read_delivery, record_delivery

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

ROUTES = {route.rule: route for route in (GITHUB, GITLAB)}


class WebhookFastPath:
    """The app's WSGI callable with the webhooks' accepted deliveries answered before Flask."""

    def __init__(self, app: Flask, inner: WSGIApplication) -> None:
        self._app = app
        self._inner = inner

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer an accepted delivery here; hand anything else to Flask untouched."""
        route = ROUTES.get(environ.get("PATH_INFO", ""))
        if (
            route is None
            or environ.get("REQUEST_METHOD") != "POST"
            or environ.get("QUERY_STRING")
            or "HTTP_ORIGIN" in environ  # a browser: CORS is Flask's
        ):
            return self._inner(environ, start_response)
        started = time.perf_counter()
        body = RewindableInput(environ["wsgi.input"])
        environ["wsgi.input"] = body
        app_state = self._app.extensions[STATE_KEY]
        try:
            delivery = read_delivery(route, Request(environ, populate_request=False), app_state)
            status, document = record_delivery(route, delivery, app_state)
        except Exception:  # refused or failed: the view answers it, in the API's shape
            body.rewind()
            return self._inner(environ, start_response)
        answer = json.dumps(document, separators=(",", ":")).encode()
        start_response(
            f"{status} {HTTP_STATUS_CODES[status]}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))],
        )
        notify_observers(self._app, RequestRecord("POST", route.rule, status, time.perf_counter() - started))
        return [answer]


class RewindableInput:
    """A request body that keeps what was read of it, so a request handed on is read again whole."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._kept = bytearray()
        self._replay: io.BytesIO | None = None

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all when negative): after ``rewind``, what was read first."""
        wanted = -1 if size is None or size < 0 else size
        if self._replay is None:
            data = self._stream.read(wanted)
            self._kept += data
            return data
        data = self._replay.read(wanted)
        if wanted < 0:
            return data + self._stream.read(-1)
        return data + self._stream.read(wanted - len(data)) if len(data) < wanted else data

    def readline(self, size: int | None = -1) -> bytes:
        """One line (WSGI asks for it; the webhooks read whole bodies)."""
        limit = -1 if size is None else size
        if self._replay is not None and self._replay.tell() < len(self._kept):
            return self._replay.readline(limit)
        data = self._stream.readline(limit)
        if self._replay is None:
            self._kept += data
        return data

    def rewind(self) -> None:
        """Read from the start again."""
        self._replay = io.BytesIO(bytes(self._kept))


def install_fast_path(app: Flask) -> None:
    """Put the fast path in front of the app (every server and the test client go through it)."""
    app.wsgi_app = WebhookFastPath(app, app.wsgi_app)  # type: ignore[method-assign]


__all__ = ["ROUTES", "RewindableInput", "WebhookFastPath", "install_fast_path"]
