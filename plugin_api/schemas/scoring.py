"""Wire schemas of scorecards, their results and history, ownership gaps, team summaries and insights.

camelCase on the wire, like the rest of ``/api``. Response objects are open (clients ignore keys they
do not know); query parameters are checked here, so a bad one answers 400 naming it.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from catalog_sync.scoring.gaps import GAP_TYPES
from catalog_sync.store.scoring import MAX_DAYS
from plugin_api.schemas.common import ListArgsSchema, OpenSchema, PageInfoSchema, list_schema

_FILTER_HELP = (
    "repeatable, the catalog's filter syntax: commas AND (key=value, or a bare key), repeated filters OR, "
    "e.g. kind=product,spec.lifecycle=production"
)
_LEVELS = fields.Dict(
    keys=fields.String(),
    values=fields.Integer(),
    metadata={"description": "entities per level; `none` counts those below the first level"},
)


class LevelSummarySchema(OpenSchema):
    """How a scorecard's entities are spread over its levels, and their average score."""

    entities = fields.Integer(required=True)
    levels = _LEVELS
    averageScore = fields.Float(allow_none=True, required=True)  # noqa: N815


class CheckDefinitionSchema(OpenSchema):
    """One check of a scorecard, as its descriptor states it."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String()
    level = fields.String(required=True)
    weight = fields.Float(required=True)
    rule = fields.Dict(required=True, metadata={"description": "one rule form (SPEC section 4)"})


class ScorecardSchema(OpenSchema):
    """A scorecard: where it comes from, what it applies to, its levels and checks, and its summary."""

    name = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String()
    origin = fields.String(
        required=True,
        validate=validate.OneOf(("builtin", "file", "catalog")),
        metadata={"description": "builtin, file (scorecards.paths) or catalog (a Scorecard entity)"},
    )
    entityRef = fields.String(allow_none=True)  # noqa: N815
    levels = fields.List(fields.String(), required=True)
    appliesTo = fields.List(fields.String(), required=True)  # noqa: N815
    checks = fields.List(fields.Nested(CheckDefinitionSchema), required=True)
    summary = fields.Nested(LevelSummarySchema, required=True)
    updatedAt = fields.DateTime(allow_none=True)  # noqa: N815
    warnings = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "checks that cannot work as written here, e.g. a repoFile path that "
            "sync.fact_paths never records (the check fails on every repository), with the setting to change"
        },
    )


class ExemptionSchema(OpenSchema):
    """Why a check counts as passed although its rule does not hold: written in the entity's descriptor."""

    reason = fields.String(required=True)
    until = fields.String(required=True, metadata={"description": "the last day it holds (UTC, YYYY-MM-DD)"})
    approvedBy = fields.String(required=True)  # noqa: N815


class CheckResultSchema(OpenSchema):
    """One check's result: passed or not, the value shown beside it, and what to do."""

    id = fields.String(required=True)
    title = fields.String()
    level = fields.String(allow_none=True)
    weight = fields.Float()
    passed = fields.Boolean(required=True)
    value = fields.Raw(
        allow_none=True, metadata={"description": "a count, a number of days, missing roles..."}
    )
    message = fields.String(required=True)
    exempted = fields.Nested(
        ExemptionSchema,
        metadata={"description": "present when the check passes only by an exemption still in force"},
    )


class ScorecardResultSchema(OpenSchema):
    """One entity's result on one scorecard."""

    entityRef = fields.String(required=True)  # noqa: N815
    kind = fields.String()
    owner = fields.String(allow_none=True, metadata={"description": "the owning team's ref"})
    level = fields.String(
        allow_none=True, required=True, metadata={"description": "null below the first level"}
    )
    score = fields.Float(required=True, metadata={"description": "weighted share of checks passed, 0-100"})
    evaluatedAt = fields.DateTime(allow_none=True)  # noqa: N815
    checks = fields.List(fields.Nested(CheckResultSchema), required=True)


class EntityScorecardResultSchema(ScorecardResultSchema):
    """A result of one entity, naming its scorecard."""

    scorecard = fields.String(required=True)
    title = fields.String()


class HistoryPointSchema(OpenSchema):
    """One day of one scorecard: entities per level and the average score."""

    day = fields.String(required=True, metadata={"description": "UTC date, YYYY-MM-DD"})
    entities = fields.Integer(required=True)
    levels = _LEVELS
    averageScore = fields.Float(allow_none=True, required=True)  # noqa: N815


class GapRepositorySchema(OpenSchema):
    """The repository of a repository_without_descriptor gap."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    url = fields.String(allow_none=True)


class GapSchema(OpenSchema):
    """One ownership gap (SPEC section 5)."""

    type = fields.String(required=True, validate=validate.OneOf(GAP_TYPES))
    entityRef = fields.String(allow_none=True, required=True)  # noqa: N815
    kind = fields.String(allow_none=True)
    owner = fields.String(allow_none=True, metadata={"description": "who should act: the owner, or the team"})
    tier = fields.String(metadata={"description": "spec.tier, or none"})
    detail = fields.String(required=True)
    repository = fields.Nested(GapRepositorySchema)


class GapListSchema(OpenSchema):
    """A page of gaps with the count of every type under the same filters."""

    items = fields.List(fields.Nested(GapSchema), required=True)
    summary = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    totalItems = fields.Integer(required=True)  # noqa: N815
    pageInfo = fields.Nested(PageInfoSchema, required=True)  # noqa: N815


class TeamSummarySchema(OpenSchema):
    """A team's page: owned entities and their levels, gaps, members by role, insights."""

    team = fields.Dict(required=True)
    members = fields.Dict(required=True, metadata={"description": "count, byRole, withoutRole"})
    owned = fields.Dict(
        required=True, metadata={"description": "count, byKind, entities (first 100), truncated"}
    )
    scorecards = fields.List(fields.Dict(), required=True)
    gaps = fields.Dict(
        required=True, metadata={"description": "summary by type, items (first 100), truncated"}
    )
    insights = fields.Dict(
        required=True, metadata={"description": "runbooks, dependencies (cross-team), sharedCapabilities"}
    )
    kpis = fields.Dict(
        required=True,
        metadata={"description": "count, byCategory: per category, KPIs met / missed / unknown / declared"},
    )


class CapabilityOverlapSchema(OpenSchema):
    """A capability served by products of several teams."""

    capability = fields.String(required=True)
    products = fields.Integer(required=True)
    teams = fields.List(fields.Dict(), required=True, metadata={"description": "[{team, products}]"})


class CoordinationLoadSchema(OpenSchema):
    """A team's dependencies on, and from, other teams' products."""

    team = fields.String(required=True)
    outgoing = fields.Integer(required=True)
    incoming = fields.Integer(required=True)
    total = fields.Integer(required=True)
    teams = fields.List(fields.String(), required=True)


class RunbookAutomationSchema(OpenSchema):
    """A team's manual and automated runbooks."""

    team = fields.String(required=True)
    manual = fields.Integer(required=True)
    automated = fields.Integer(required=True)
    total = fields.Integer(required=True)
    automatedShare = fields.Float(required=True)  # noqa: N815


ScorecardListSchema = list_schema("ScorecardList", ScorecardSchema)
ScorecardResultListSchema = list_schema("ScorecardResultList", ScorecardResultSchema)
EntityScorecardListSchema = list_schema("EntityScorecardList", EntityScorecardResultSchema)
HistorySchema = list_schema("ScorecardHistory", HistoryPointSchema)
CapabilityOverlapListSchema = list_schema("CapabilityOverlapList", CapabilityOverlapSchema)
CoordinationLoadListSchema = list_schema("CoordinationLoadList", CoordinationLoadSchema)
RunbookAutomationListSchema = list_schema("RunbookAutomationList", RunbookAutomationSchema)


class _Args(ListArgsSchema):
    class Meta:
        unknown = EXCLUDE


class ScorecardListArgsSchema(_Args):
    """``limit`` and ``cursor``."""


class ResultArgsSchema(_Args):
    """Filters of a scorecard's results."""

    filter = fields.List(fields.String(), metadata={"description": _FILTER_HELP})
    level = fields.String(
        validate=validate.Length(min=1, max=63),
        metadata={"description": "a level of the scorecard, or none (below the first level)"},
    )


class HistoryArgsSchema(_Args):
    """How many days of history."""

    days = fields.Integer(
        load_default=30,
        validate=validate.Range(min=1, max=MAX_DAYS),
        metadata={"description": f"days back from today, 1-{MAX_DAYS} (default 30)"},
    )


class GapArgsSchema(_Args):
    """Filters of the gap list."""

    type = fields.String(validate=validate.OneOf(GAP_TYPES), metadata={"description": "one gap type"})
    owner = fields.String(
        validate=validate.Length(min=1, max=600),
        metadata={"description": "a team's ref (team:default/payments) or name (a Team or a Group)"},
    )


class TeamArgsSchema(Schema):
    """The team's namespace."""

    class Meta:
        unknown = EXCLUDE

    namespace = fields.String(load_default="default", validate=validate.Length(min=1, max=63))
