"""Wire schemas of the Backstage-compatible catalog (``/api/catalog``), as Backstage's catalog API has them.

Parameter names, their repetition (``filter``, ``orderField``, ``facet`` repeat; ``fields`` is a comma
list that may repeat) and response shapes follow Backstage's catalog-backend, so that
``@backstage/catalog-client`` works unchanged. Entities are documented loosely (any key may appear,
and ``fields`` may cut any key away), because an entity is whatever its descriptor says.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from plugin_api.schemas.common import OpenSchema, PageInfoSchema

MAX_REFS = 1000
"""Refs in one by-refs request: Backstage's client sends at most 1,000 per request."""
MAX_OFFSET = 2**53
"""Far beyond any catalog, and within what every database driver and JavaScript client can count."""

_FILTER_HELP = (
    "repeatable; commas AND (key=value, or a bare key for existence), repeated filters OR; "
    "case-insensitive, e.g. kind=component,spec.lifecycle=production"
)
_FIELDS_HELP = "comma-separated dotted paths of the entity to keep, e.g. kind,metadata.name"


class RelationSchema(OpenSchema):
    """One relation, Backstage's shape: the type and the other end's ``kind:namespace/name``."""

    type = fields.String()
    targetRef = fields.String()  # noqa: N815 - Backstage's spelling


class StatusErrorSchema(OpenSchema):
    """The error of a status item."""

    name = fields.String()
    message = fields.String()


class StatusItemSchema(OpenSchema):
    """A processing problem of the entity (``backstage.io/catalog-processing``)."""

    type = fields.String()
    level = fields.String()
    message = fields.String()
    error = fields.Nested(StatusErrorSchema)


class StatusSchema(OpenSchema):
    """``status``: present when the entity's descriptor has problems."""

    items = fields.List(fields.Nested(StatusItemSchema))


class EntitySchema(OpenSchema):
    """An entity: Backstage's envelope plus ``relations`` and, with problems, ``status``."""

    apiVersion = fields.String()  # noqa: N815 - Backstage's spelling
    kind = fields.String()
    metadata = fields.Dict()
    spec = fields.Dict()
    relations = fields.List(fields.Nested(RelationSchema))
    status = fields.Nested(StatusSchema)


class EntityPageSchema(OpenSchema):
    """One page of ``/entities/by-query``."""

    items = fields.List(fields.Nested(EntitySchema), required=True)
    totalItems = fields.Integer(required=True)  # noqa: N815
    pageInfo = fields.Nested(PageInfoSchema, required=True)  # noqa: N815


class ByRefsResultSchema(OpenSchema):
    """``/entities/by-refs``: one item per ref asked, in order, null where the ref names nothing."""

    items = fields.List(fields.Nested(EntitySchema, allow_none=True), required=True)


class FacetValueSchema(OpenSchema):
    """One value of a facet and how many entities have it."""

    value = fields.String(required=True)
    count = fields.Integer(required=True)


class FacetsSchema(OpenSchema):
    """``/entity-facets``: the values of each facet asked."""

    facets = fields.Dict(
        keys=fields.String(), values=fields.List(fields.Nested(FacetValueSchema)), required=True
    )


class LocationSchema(OpenSchema):
    """A descriptor file, as one of Backstage's locations."""

    id = fields.String(required=True)
    type = fields.String(required=True)
    target = fields.String(required=True)


class LocationItemSchema(OpenSchema):
    """``GET /locations`` wraps each location in ``data``, as Backstage does."""

    data = fields.Nested(LocationSchema, required=True)


class ValidateEntityErrorsSchema(OpenSchema):
    """``POST /validate-entity`` answers 400 with the reasons, as Backstage does."""

    errors = fields.List(fields.Nested(StatusErrorSchema), required=True)


class ValidateEntityOkSchema(OpenSchema):
    """``POST /validate-entity`` answers 200 for a valid entity; warnings do not make it invalid."""

    warnings = fields.List(fields.Nested(StatusErrorSchema))


class _QueryArgs(Schema):
    class Meta:
        unknown = EXCLUDE


class ByQueryArgsSchema(_QueryArgs):
    """Parameters of ``GET /entities/by-query``."""

    filter = fields.List(fields.String(), metadata={"description": _FILTER_HELP})
    field_paths = fields.List(fields.String(), data_key="fields", metadata={"description": _FIELDS_HELP})
    limit = fields.Integer(
        validate=validate.Range(min=0),
        metadata={"description": "page size; above api.max_page_size the maximum is served"},
    )
    orderField = fields.List(  # noqa: N815
        fields.String(), metadata={"description": "repeatable, field,asc or field,desc"}
    )
    cursor = fields.String(metadata={"description": "pageInfo.nextCursor or prevCursor of a previous page"})
    fullTextFilterTerm = fields.String()  # noqa: N815
    fullTextFilterFields = fields.List(fields.String())  # noqa: N815
    offset = fields.Integer(validate=validate.Range(min=0, max=MAX_OFFSET))
    totalItems = fields.String(validate=validate.OneOf(["include", "exclude"]))  # noqa: N815


class EntitiesArgsSchema(_QueryArgs):
    """Parameters of the legacy ``GET /entities``."""

    filter = fields.List(fields.String(), metadata={"description": _FILTER_HELP})
    field_paths = fields.List(fields.String(), data_key="fields", metadata={"description": _FIELDS_HELP})
    limit = fields.Integer(validate=validate.Range(min=0))
    offset = fields.Integer(validate=validate.Range(min=0, max=MAX_OFFSET))
    after = fields.String(metadata={"description": "the Link header's continuation of a previous page"})
    order = fields.List(fields.String(), metadata={"description": "repeatable, asc:field or desc:field"})


class FacetArgsSchema(_QueryArgs):
    """Parameters of ``GET /entity-facets``."""

    facet = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "repeatable; a key such as kind or spec.owner"},
    )
    filter = fields.List(fields.String(), metadata={"description": _FILTER_HELP})


class FilterArgsSchema(_QueryArgs):
    """The ``filter`` parameter alone (``POST /entities/by-refs``)."""

    filter = fields.List(fields.String(), metadata={"description": _FILTER_HELP})


class ByRefsBodySchema(Schema):
    """Body of ``POST /entities/by-refs``."""

    class Meta:
        unknown = EXCLUDE

    entityRefs = fields.List(  # noqa: N815
        fields.String(validate=validate.Length(min=1, max=1000)),
        required=True,
        validate=validate.Length(max=MAX_REFS),
    )
    field_paths = fields.List(fields.String(), data_key="fields")
    query = fields.Raw(
        metadata={"description": "Backstage's predicate queries are not supported: use the filter parameter"}
    )


class RefreshBodySchema(Schema):
    """Body of ``POST /refresh``."""

    class Meta:
        unknown = EXCLUDE

    entityRef = fields.String(required=True, validate=validate.Length(min=1, max=1000))  # noqa: N815


class ValidateEntityBodySchema(OpenSchema):
    """Body of ``POST /validate-entity`` (documentation: the view reads it itself, as Backstage does)."""

    entity = fields.Raw(required=True)
    location = fields.String(required=True, metadata={"description": "url:<where the file lives>"})
