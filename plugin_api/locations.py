"""Backstage's locations (``/api/catalog/locations``) and entity validation (``/validate-entity``).

In Backstage a location is a registered URL of a descriptor; here every descriptor file of every
repository is one, with a ``url`` target of the form ``<repository>/blob/<branch>/<path>`` (a GitLab
project's ``<project>/-/blob/...``), the same as the entities' ``backstage.io/managed-by-location``.
Locations are read-only: repositories are added through ``POST /api/repositories`` or the
configuration, never by registering single files.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from catalog_sync.descriptors import ParsedFile, load_json, validate_entity_body
from catalog_sync.descriptors.references import refuse_unknown
from catalog_sync.errors import NotFoundError
from catalog_sync.store.repo_queries import encode_location_id
from plugin_api.catalog import json_response
from plugin_api.schemas.catalog import (
    LocationItemSchema,
    LocationSchema,
    ValidateEntityBodySchema,
    ValidateEntityErrorsSchema,
    ValidateEntityOkSchema,
)
from plugin_api.smorest import api_blueprint
from plugin_api.state import connection, state

blp = api_blueprint(
    "locations",
    __name__,
    "Backstage-compatible locations (one per descriptor file) and entity validation",
    url_prefix="/api/catalog",
)


@blp.route("/locations", methods=["GET"])
@blp.response(200, LocationItemSchema(many=True))
def list_locations() -> Response:
    """Every descriptor file in the catalog, each wrapped in ``data`` as Backstage does."""
    records = state().catalog.list_locations(connection=connection())
    return json_response([{"data": _location(record)} for record in records])


@blp.route("/locations/<string:location_id>", methods=["GET"])
@blp.response(200, LocationSchema)
def get_location(location_id: str) -> Response:
    """One location by id."""
    return json_response(_location(state().catalog.get_location(location_id, connection=connection())))


@blp.route("/locations/by-entity/<string:kind>/<string:namespace>/<string:name>", methods=["GET"])
@blp.response(200, LocationSchema)
def get_location_by_entity(kind: str, namespace: str, name: str) -> Response:
    """The descriptor file an entity comes from."""
    app_state = state()
    entity = app_state.catalog.get_by_ref(f"{kind}:{namespace}/{name}", connection=connection())
    if entity is None or entity.repository_id is None or not entity.path:
        raise NotFoundError(f"found no location for {kind}:{namespace}/{name}")
    location_id = encode_location_id(entity.repository_id, entity.path)
    record = app_state.catalog.get_location(location_id, connection=connection())
    return json_response(_location(record))


@blp.route("/validate-entity", methods=["POST"])
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": ValidateEntityBodySchema}}}
)
@blp.response(200, ValidateEntityOkSchema)
@blp.alt_response(400, schema=ValidateEntityErrorsSchema, description="the entity or the request is invalid")
def validate_entity() -> Response:
    """Check an entity as a sync would, without storing it (Backstage's validate-entity).

    Like Backstage, every refusal (unreadable body, bad location, invalid entity) answers 400 with
    ``{errors: [{name, message}]}``, which ``CatalogClient.validateEntity`` turns into its result.
    """
    body, failure = _read_body()
    if failure is not None:
        return _invalid([failure])
    location = body.get("location")
    if not isinstance(location, str) or not location.startswith("url:") or len(location) <= 4:
        return _invalid(
            [
                f"Invalid location ref {location!r}, only 'url:<target>' is supported, e.g. url:https://host/path"
            ]
        )
    if "entity" not in body:
        return _invalid(["entity: Missing data for required field."])
    parsed = validate_entity_body(body["entity"], location[4:])
    as_file = ParsedFile(location[4:], [parsed])
    refuse_unknown([as_file], state().scoring.scorecard_terms(connection()))
    parsed = as_file.documents[0]
    errors = [problem for problem in parsed.problems if problem.severity == "error"]
    if errors or parsed.entity is None:
        return _invalid([_problem_text(problem) for problem in errors] or ["the entity is invalid"])
    warnings = [
        {"name": "ValidationWarning", "message": _problem_text(p)}
        for p in parsed.problems
        if p.severity == "warning"
    ]
    return json_response({"warnings": warnings})


def _read_body() -> tuple[dict[str, Any], str | None]:
    data = request.get_data(cache=True)
    try:
        body = load_json(data.decode("utf-8")) if data.strip() else None
    except (ValueError, UnicodeDecodeError) as exc:
        return {}, f"the request body is not valid JSON: {exc}"
    if not isinstance(body, dict):
        return {}, "the request body must be a JSON object {entity, location}"
    return body, None


def _invalid(messages: list[str]) -> Response:
    return json_response(
        {"errors": [{"name": "InputError", "message": text} for text in messages]}, status=400
    )


def _problem_text(problem: Any) -> str:
    text = f"{problem.field}: {problem.message}" if problem.field else str(problem.message)
    return f"{text} [{problem.entity_ref}]" if problem.entity_ref else text


def _location(record: Any) -> dict[str, str]:
    return {"id": record.id, "type": record.type, "target": record.target}
