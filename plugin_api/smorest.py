"""flask-smorest, adjusted to speak Backstage's error shape.

- parameter and body validation failures answer 400 ``InputError`` (not 422) naming the field;
- a body that is not JSON answers 400 with the parser's reason, a non-JSON content type 415, and a body
  nested deeper than ``MAX_JSON_DEPTH`` 400 before it is parsed (``load_json``);
- the documented default error is Backstage's ``{error, request, response}`` document;
- a 405 keeps its ``Allow`` header (flask-smorest's own handler drops it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import flask
import flask_smorest  # type: ignore[import-untyped]
import marshmallow as ma
from flask.blueprints import BlueprintSetupState
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException

from catalog_sync.descriptors import JsonTooDeepError, load_json
from plugin_api.errors import answer_http_exception, flatten_messages, refuse
from plugin_api.schemas.common import BackstageErrorSchema

_JSON_NUL = re.compile(rb"\\u0000", re.IGNORECASE)


class BackstageParser(FlaskParser):
    """webargs' Flask parser with our refusals."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: flask.Request) -> Any:
        data = req.get_data(cache=True)
        if not is_json_request(req):
            if data:
                refuse(415, "the request body must be JSON (Content-Type: application/json)")
            return core.missing
        if not data.strip():
            return core.missing
        if _JSON_NUL.search(data):
            refuse(400, "NUL characters (\\u0000) are not allowed in the request body")
        try:
            return load_json(data.decode("utf-8"))
        except JsonTooDeepError as exc:
            refuse(400, f"the request body cannot be read: {exc}")

    def _handle_invalid_json_error(
        self, error: json.JSONDecodeError | UnicodeDecodeError, req: flask.Request, *args: Any, **kwargs: Any
    ) -> NoReturn:
        refuse(400, f"the request body is not valid JSON: {error}")

    def handle_error(
        self,
        error: ma.ValidationError,
        req: flask.Request,
        schema: ma.Schema,
        *,
        error_status_code: int | None,
        error_headers: Any,
    ) -> NoReturn:
        refuse(400, "; ".join(flatten_messages(error.messages)) or "the request is invalid")


F = TypeVar("F", bound=Callable[..., Any])


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """A flask-smorest blueprint that parses with ``BackstageParser``, with typed decorators."""

    ARGUMENTS_PARSER = BackstageParser()

    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Register a view under ``rule`` and document it."""
        decorator: Callable[[F], F] = super().route(rule, **options)
        return decorator

    def arguments(self, schema: Any, **options: Any) -> Callable[[F], F]:
        """Parse and validate the request's ``location`` with a marshmallow schema."""
        decorator: Callable[[F], F] = super().arguments(schema, **options)
        return decorator

    def response(self, status_code: int, schema: Any = None, **options: Any) -> Callable[[F], F]:
        """Document (and, for plain return values, serialise) the main response."""
        decorator: Callable[[F], F] = super().response(status_code, schema, **options)
        return decorator

    def alt_response(self, status_code: int, **options: Any) -> Callable[[F], F]:
        """Document another response of the view."""
        decorator: Callable[[F], F] = super().alt_response(status_code, **options)
        return decorator

    def record_once(self, func: Callable[[BlueprintSetupState], None]) -> None:
        """Run ``func`` when the blueprint is first registered on an app (Flask's ``record_once``)."""
        super().record_once(func)

    def doc(self, **documentation: Any) -> Callable[[F], F]:
        """Add OpenAPI documentation by hand (request bodies the view reads itself)."""
        decorator: Callable[[F], F] = super().doc(**documentation)
        return decorator


def api_blueprint(
    name: str, import_name: str, description: str, *, url_prefix: str | None = None
) -> Blueprint:
    """A blueprint for one resource of ``/api``, served under ``/api/<name>`` unless ``url_prefix`` says
    otherwise, so that each resource module declares its routes' home in one line."""
    prefix = f"/api/{name}" if url_prefix is None else url_prefix
    return Blueprint(name, import_name, url_prefix=prefix, description=description)


class Api(flask_smorest.Api):  # type: ignore[misc]
    """The flask-smorest extension with Backstage's error document."""

    ERROR_SCHEMA = BackstageErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        """Answer werkzeug's errors in Backstage's shape (a page to a browser), keeping ``Allow`` on a 405."""
        return answer_http_exception(error)
