"""Wire schemas of the product model's catalog-wide answers: technical debt by team, what a team
should fix next, the capability tree and the directory of teams.

camelCase on the wire like the rest of ``/api``; response objects are open (clients ignore keys they
do not know); query parameters are checked here, so a bad one answers 400 naming it.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from catalog_sync.descriptors.kinds_ours import SEVERITIES
from plugin_api.schemas.common import ListArgsSchema, OpenSchema, list_schema

_SEVERITY_COUNTS = fields.Dict(
    keys=fields.String(),
    values=fields.Integer(),
    required=True,
    metadata={"description": "items per severity: low, medium, high, critical"},
)


class TechDebtItemSchema(OpenSchema):
    """One item of a product's ``spec.techDebt``."""

    entityRef = fields.String(required=True)  # noqa: N815
    title = fields.String(required=True)
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    url = fields.String(allow_none=True)
    since = fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD, when the descriptor says"})


class TechDebtTeamSchema(OpenSchema):
    """One team's technical debt: counts by severity, and its items oldest first."""

    team = fields.String(allow_none=True, required=True, metadata={"description": "null: no owning team"})
    total = fields.Integer(required=True)
    bySeverity = _SEVERITY_COUNTS  # noqa: N815
    products = fields.Integer(required=True, metadata={"description": "products with some debt"})
    items = fields.List(fields.Nested(TechDebtItemSchema), required=True)


TechDebtListSchema = list_schema("TechDebtList", TechDebtTeamSchema)


class TechDebtArgsSchema(ListArgsSchema):
    """``limit``, ``cursor`` and an optional severity."""

    class Meta:
        unknown = EXCLUDE

    severity = fields.String(
        validate=validate.OneOf(SEVERITIES),
        metadata={"description": "only items of this severity (teams without any are left out)"},
    )


class NextStepSchema(OpenSchema):
    """One failing check across a team's products, and how to pass it."""

    scorecard = fields.String(required=True)
    scorecardTitle = fields.String()  # noqa: N815
    check = fields.String(required=True)
    title = fields.String(required=True)
    level = fields.String(
        allow_none=True, required=True, metadata={"description": "the level it counts towards"}
    )
    how = fields.String(required=True, metadata={"description": "how to pass it"})
    products = fields.List(fields.String(), required=True, metadata={"description": "entities failing it"})
    unlocksFor = fields.List(  # noqa: N815
        fields.String(),
        required=True,
        metadata={"description": "entities that would reach a higher level by passing this check alone"},
    )


class TeamNextSchema(OpenSchema):
    """What a team should fix next."""

    team = fields.String(required=True)
    steps = fields.List(fields.Nested(NextStepSchema), required=True)
    totalSteps = fields.Integer(required=True)  # noqa: N815
    deadlines = fields.List(
        fields.Dict(), required=True, metadata={"description": "initiative deadlines, soonest first"}
    )


class TeamNextArgsSchema(Schema):
    """The team's namespace."""

    class Meta:
        unknown = EXCLUDE

    namespace = fields.String(load_default="default", validate=validate.Length(min=1, max=63))
