"""Wire schemas shared by every resource: Backstage's error document, page info, list arguments.

These marshmallow schemas are the single description of the wire format: flask-smorest parses
requests with them and apispec turns them into ``/api/openapi.json``, so the published contract and
the code cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from marshmallow import INCLUDE, Schema, fields, validate


class OpenSchema(Schema):
    """A response object that may grow keys; clients must ignore keys they do not know."""

    class Meta:
        unknown = INCLUDE


class ErrorDetailSchema(OpenSchema):
    """``error``: Backstage's error name (``NotFoundError``, ``InputError``, ...) and a message."""

    name = fields.String(required=True)
    message = fields.String(required=True)


class ErrorRequestSchema(OpenSchema):
    """``request``: the request that failed."""

    method = fields.String(required=True)
    url = fields.String(required=True)


class ErrorResponseSchema(OpenSchema):
    """``response``: the status code, repeated in the body for clients that log bodies only."""

    statusCode = fields.Integer(required=True)  # noqa: N815 - Backstage's spelling


class BackstageErrorSchema(OpenSchema):
    """Every error of the API, in the shape ``@backstage/errors`` reads."""

    error = fields.Nested(ErrorDetailSchema, required=True)
    request = fields.Nested(ErrorRequestSchema)
    response = fields.Nested(ErrorResponseSchema, required=True)


class PageInfoSchema(OpenSchema):
    """Where the next (and, for the catalog, previous) page starts; absent at the ends."""

    nextCursor = fields.String()  # noqa: N815 - Backstage's spelling
    prevCursor = fields.String()  # noqa: N815


class ListArgsSchema(Schema):
    """``limit`` and ``cursor`` of our own lists; a larger limit than allowed is served at the maximum."""

    limit = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "page size; above api.max_page_size the maximum is served"},
    )
    cursor = fields.String(
        validate=validate.Length(min=1, max=4096),
        metadata={"description": "pageInfo.nextCursor of the previous page; carries the page's filters"},
    )


def list_schema(name: str, item: type[Schema] | Schema) -> type[Schema]:
    """The ``{items, totalItems, pageInfo}`` schema of a list of ``item``."""
    attributes: dict[str, Any] = {
        "items": fields.List(fields.Nested(item), required=True),
        "totalItems": fields.Integer(required=True),
        "pageInfo": fields.Nested(PageInfoSchema, required=True),
    }
    return OpenSchema.from_dict(attributes, name=name)
