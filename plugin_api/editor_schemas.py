"""``/schemas/{name}.schema.json``: the descriptors' JSON Schemas, served so an editor can name them.

A descriptor's first line ``# yaml-language-server: $schema=https://CATALOG/schemas/catalog-info.schema.json``
(``catalog-sync init --catalog URL`` writes it) makes the editor complete and check the file against
the rules of the catalog that will read it. The schemas are generated once per process from the same
marshmallow schemas that validate descriptors (the files in ``descriptors/schema/`` are the same
text, kept current by ``make schemas``), answered as ``application/schema+json`` with an ``ETag``
and a public, hour-long ``Cache-Control``, readable from any origin and without a token: an editor
sends none, and a schema tells nothing about the catalog's contents.
"""

from __future__ import annotations

import hashlib
from functools import cache

from flask import Blueprint, Response, request

from catalog_sync.descriptors.jsonschema import generate, render
from plugin_api.errors import refuse

blp = Blueprint("editor_schemas", __name__, url_prefix="/schemas")

MEDIA_TYPE = "application/schema+json"
CACHE_CONTROL = "public, max-age=3600"


@cache
def _schemas() -> dict[str, tuple[bytes, str]]:
    """Each schema file's text and its ETag, by file name."""
    out = {}
    for name, schema in generate().items():
        body = render(schema).encode("utf-8")
        out[name] = (body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return out


@blp.route("/<string:name>", methods=["GET", "HEAD"])
def get_schema(name: str) -> Response:
    """One schema file: 200 with the schema, 304 when the editor's copy is current, 404 for other names."""
    found = _schemas().get(name)
    if found is None:
        known = ", ".join(sorted(_schemas()))
        refuse(404, f"no schema named {name!r}; the schemas are {known}")
    body, etag = found
    headers = {
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
    }
    if etag in {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}:
        return Response(status=304, headers=headers)
    return Response(body, status=200, mimetype=MEDIA_TYPE, headers=headers)
