"""Wire schemas of catalog-sync's own endpoints: sources, repositories, sync passes, validation.

Field names are camelCase on the wire (as in Backstage's API, so one client style fits both halves of
``/api``); the records they dump are the store's dataclasses.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from plugin_api.schemas.common import ListArgsSchema, OpenSchema, list_schema

STATES = ("ok", "failing", "stale", "pending")


class SourceSchema(OpenSchema):
    """A configured source and its repositories by state."""

    name = fields.String(required=True)
    type = fields.String(required=True)
    target = fields.String(required=True)
    repositories = fields.Integer(required=True)
    states = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    lastDiscoveryAt = fields.DateTime(attribute="last_discovery_at", allow_none=True)  # noqa: N815
    lastError = fields.String(attribute="last_error", allow_none=True)  # noqa: N815
    listingRequestedAt = fields.DateTime(  # noqa: N815
        attribute="listing_requested_at",
        allow_none=True,
        metadata={
            "description": "when a push or a creation naming a repository no source lists yet asked "
            "for a listing the workers have not made yet"
        },
    )


class _LocatedProblemSchema(OpenSchema):
    """What every problem says: how bad, what, and where (file, line, column, field, entity) when known."""

    path = fields.String(allow_none=True)
    line = fields.Integer(allow_none=True)
    column = fields.Integer(allow_none=True)
    field = fields.String(allow_none=True)
    message = fields.String(required=True)
    entityRef = fields.String(attribute="entity_ref", allow_none=True)  # noqa: N815
    severity = fields.String(required=True, validate=validate.OneOf(("error", "warning")))


class ProblemSchema(_LocatedProblemSchema):
    """Something a repository's owners must fix, pointing at file, line and entity where known."""

    category = fields.String(required=True)


class RepositorySchema(OpenSchema):
    """A repository: where it is, how its last sync went, what it holds and what is wrong in it."""

    id = fields.Integer(required=True)
    source = fields.String(required=True)
    name = fields.String(required=True)
    url = fields.String(required=True)
    branch = fields.String(allow_none=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    lastCommit = fields.String(attribute="last_commit", allow_none=True)  # noqa: N815
    lastSyncAt = fields.DateTime(attribute="last_sync_at", allow_none=True)  # noqa: N815
    lastSuccessAt = fields.DateTime(attribute="last_success_at", allow_none=True)  # noqa: N815
    nextSyncAt = fields.DateTime(attribute="next_sync_at", allow_none=True)  # noqa: N815
    hasDescriptors = fields.Boolean(attribute="has_descriptors", allow_none=True)  # noqa: N815
    entities = fields.Integer(required=True)
    errorCount = fields.Integer(attribute="error_count", required=True)  # noqa: N815
    errors = fields.List(fields.Nested(ProblemSchema), required=True)


class SyncRunSchema(OpenSchema):
    """One sync pass and its counts."""

    id = fields.Integer(required=True)
    worker = fields.String(required=True)
    startedAt = fields.DateTime(attribute="started_at", required=True)  # noqa: N815
    finishedAt = fields.DateTime(attribute="finished_at", allow_none=True)  # noqa: N815
    result = fields.String(required=True)
    repositories = fields.Integer(required=True)
    changed = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    errors = fields.Integer(required=True)
    durationSeconds = fields.Float(attribute="duration_seconds", allow_none=True)  # noqa: N815
    message = fields.String(allow_none=True)


SourceListSchema = list_schema("SourceList", SourceSchema)
RepositoryListSchema = list_schema("RepositoryList", RepositorySchema)
SyncRunListSchema = list_schema("SyncRunList", SyncRunSchema)


class RepositoryListArgsSchema(ListArgsSchema):
    """Filters of ``GET /api/repositories``."""

    class Meta:
        unknown = EXCLUDE

    source = fields.String(validate=validate.Length(min=1, max=63))
    state = fields.String(validate=validate.OneOf(STATES))


class PageArgsSchema(ListArgsSchema):
    """``limit`` and ``cursor`` alone."""

    class Meta:
        unknown = EXCLUDE


class RegisterRepositorySchema(Schema):
    """Body of ``POST /api/repositories``: a git URL and, optionally, the branch to read."""

    class Meta:
        unknown = RAISE

    url = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    branch = fields.String(allow_none=True, validate=validate.Length(min=1, max=255))


class ScheduledSchema(OpenSchema):
    """What a request to sync now scheduled."""

    scheduled = fields.Integer(required=True, metadata={"description": "repositories made due now"})


class ValidateArgsSchema(Schema):
    """``POST /api/validate?path=...``: the file name used in messages and for pattern-free checks."""

    class Meta:
        unknown = EXCLUDE

    path = fields.String(
        validate=validate.Length(min=1, max=1024),
        metadata={"description": "the file's path, shown in every problem"},
    )


class ValidationProblemSchema(_LocatedProblemSchema):
    """One error or warning of a validated file (which always names the file)."""

    path = fields.String(required=True)


class ValidationCountsSchema(OpenSchema):
    """How many documents, entities, errors and warnings the file had."""

    documents = fields.Integer(required=True)
    entities = fields.Integer(required=True)
    errors = fields.Integer(required=True)
    warnings = fields.Integer(required=True)


class ValidationResultSchema(OpenSchema):
    """The answer of ``POST /api/validate``."""

    valid = fields.Boolean(required=True)
    problems = fields.List(fields.Nested(ValidationProblemSchema), required=True)
    counts = fields.Nested(ValidationCountsSchema, required=True)


class ProbeSchema(OpenSchema):
    """``/healthz`` and ``/readyz``."""

    status = fields.String(required=True)
