"""Wire schemas of ``/api/initiatives``: progress per initiative and team, the burn-up, the entities."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from catalog_sync.store.scoring import MAX_DAYS
from plugin_api.schemas.common import ListArgsSchema, OpenSchema, list_schema

STATUSES = ("planned", "active", "done", "overdue")


class TeamProgressSchema(OpenSchema):
    """One owning team's share of an initiative (``team`` null for entities without an owning team)."""

    team = fields.String(allow_none=True, required=True)
    inScope = fields.Integer(required=True)  # noqa: N815
    done = fields.Integer(required=True)
    notDone = fields.Integer(required=True)  # noqa: N815


class InitiativeSchema(OpenSchema):
    """An initiative and its progress as of the last re-score."""

    name = fields.String(required=True)
    title = fields.String(required=True)
    entityRef = fields.String(required=True, metadata={"description": "the Initiative entity"})  # noqa: N815
    owner = fields.String(required=True, metadata={"description": "the team running it"})
    scorecard = fields.String(required=True)
    goal = fields.Dict(required=True, metadata={"description": "{checks: [...]} or {level: ...}"})
    appliesTo = fields.List(fields.String(), required=True)  # noqa: N815
    startsOn = fields.String(required=True)  # noqa: N815
    dueOn = fields.String(required=True)  # noqa: N815
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    atRisk = fields.Boolean(  # noqa: N815
        required=True,
        metadata={"description": "not done, and overdue or the last 14 days' trend misses 100% by dueOn"},
    )
    projected = fields.Float(
        allow_none=True,
        required=True,
        metadata={"description": "share done (0-1) the trend reaches on dueOn; null without two days"},
    )
    inScope = fields.Integer(required=True)  # noqa: N815
    done = fields.Integer(required=True)
    notDone = fields.Integer(required=True)  # noqa: N815
    percent = fields.Float(allow_none=True, required=True)
    teams = fields.List(fields.Nested(TeamProgressSchema), required=True)
    updatedAt = fields.DateTime(allow_none=True)  # noqa: N815
    entityDone = fields.Boolean(metadata={"description": "on an entity's list: whether it is done"})  # noqa: N815


class BurnPointSchema(OpenSchema):
    """One day of an initiative's burn-up (the day's last re-score)."""

    day = fields.String(required=True, metadata={"description": "UTC date, YYYY-MM-DD"})
    inScope = fields.Integer(required=True)  # noqa: N815
    done = fields.Integer(required=True)
    notDone = fields.Integer(required=True)  # noqa: N815
    percent = fields.Float(allow_none=True, required=True)


class CoveredEntitySchema(OpenSchema):
    """One entity an initiative covers."""

    entityRef = fields.String(required=True)  # noqa: N815
    owner = fields.String(allow_none=True, required=True)
    done = fields.Boolean(required=True)


class InitiativeListArgsSchema(ListArgsSchema):
    """Filters of the initiative list."""

    class Meta:
        unknown = EXCLUDE

    owner = fields.String(
        validate=validate.Length(min=1, max=600),
        metadata={"description": "a team's ref or name: initiatives it runs or has entities in"},
    )


class BurnUpArgsSchema(ListArgsSchema):
    """How many days of burn-up."""

    class Meta:
        unknown = EXCLUDE

    days = fields.Integer(
        load_default=90,
        validate=validate.Range(min=1, max=MAX_DAYS),
        metadata={"description": f"days back from today, 1-{MAX_DAYS} (default 90)"},
    )


class CoveredArgsSchema(ListArgsSchema):
    """Filters of an initiative's entities."""

    class Meta:
        unknown = EXCLUDE

    done = fields.Boolean(metadata={"description": "true: only those done; false: only those not done"})


InitiativeListSchema = list_schema("InitiativeList", InitiativeSchema)
BurnUpSchema = list_schema("InitiativeBurnUp", BurnPointSchema)
CoveredListSchema = list_schema("InitiativeEntities", CoveredEntitySchema)
