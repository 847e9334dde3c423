"""Wire schemas of ``/api/kpis``: the list, its filters, a KPI's history and a pushed value."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates

from catalog_sync.descriptors.kpis import KPI_CATEGORIES, STATUSES
from catalog_sync.store.kpis import HISTORY_DAYS
from plugin_api.schemas.common import ListArgsSchema, OpenSchema, PageInfoSchema, list_schema

_FILTER_HELP = (
    "repeatable, the catalog's filter syntax on the KPIs' products: commas AND, repeated filters OR, "
    "e.g. spec.tier=1"
)


class KpiSchema(OpenSchema):
    """One KPI of one product, judged against its current target."""

    entityRef = fields.String(required=True)  # noqa: N815
    entityTitle = fields.String()  # noqa: N815
    id = fields.String(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True)
    target = fields.Raw(required=True, metadata={"description": "a number; a string on a declared KPI"})
    direction = fields.String(required=True, validate=validate.OneOf(("at-least", "at-most")))
    unit = fields.String(allow_none=True)
    window = fields.String(allow_none=True)
    measure = fields.String(
        required=True, metadata={"description": "prometheus, git, push, or declared (not measured)"}
    )
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    value = fields.Float(allow_none=True, required=True, metadata={"description": "the last good value"})
    ratio = fields.Float(allow_none=True, metadata={"description": "value over target"})
    measuredAt = fields.DateTime(allow_none=True, required=True)  # noqa: N815
    attemptedAt = fields.DateTime(allow_none=True)  # noqa: N815
    error = fields.String(allow_none=True, required=True, metadata={"description": "why it is unknown"})
    owner = fields.String(allow_none=True)
    tier = fields.Integer(allow_none=True)
    capabilities = fields.List(
        fields.String(), metadata={"description": "refs of the live capabilities the product serves"}
    )
    trend = fields.List(fields.Float(), metadata={"description": "daily values of the last 30 days"})


class KpiListArgsSchema(ListArgsSchema):
    """Filters of the KPI list."""

    class Meta:
        unknown = EXCLUDE

    category = fields.String(validate=validate.OneOf(KPI_CATEGORIES))
    status = fields.String(validate=validate.OneOf(STATUSES))
    owner = fields.String(
        validate=validate.Length(min=1, max=600),
        metadata={"description": "a team's ref (team:default/payments) or name (a Team or a Group)"},
    )
    filter = fields.List(fields.String(), metadata={"description": _FILTER_HELP})


class KpiHistoryArgsSchema(Schema):
    """How many days of history."""

    class Meta:
        unknown = EXCLUDE

    days = fields.Integer(
        load_default=30,
        validate=validate.Range(min=1, max=HISTORY_DAYS),
        metadata={"description": f"days back from today, 1-{HISTORY_DAYS} (default 30)"},
    )


class KpiPointSchema(OpenSchema):
    """One day's value (the day's last)."""

    day = fields.String(required=True)
    value = fields.Float(required=True)


class _FiniteNumber(fields.Float):
    """A JSON number: ``"5"``, ``true``, NaN and the infinities are refused."""

    def _validated(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        number = float(super()._validated(value))
        if not math.isfinite(number):
            raise ValidationError("must be a finite number")
        return number


class KpiValueSchema(Schema):
    """A value for a ``push`` KPI (a survey's result, a figure from finance)."""

    class Meta:
        unknown = RAISE

    value = _FiniteNumber(
        required=True,
        validate=validate.Range(min=-1e15, max=1e15),
        metadata={"description": "the KPI's value, in its unit"},
    )
    at = fields.AwareDateTime(
        metadata={"description": "when it was true (ISO 8601 with a zone); default now; one value per at"}
    )

    @validates("at")
    def _bounded(self, value: datetime, **_: Any) -> None:
        if value.year < 2000:
            raise ValidationError("must be in 2000 or later")


class KpiValueAnswerSchema(OpenSchema):
    """The value as kept, and the KPI's status with it."""

    entityRef = fields.String(required=True)  # noqa: N815
    id = fields.String(required=True)
    value = fields.Float(required=True)
    at = fields.DateTime(required=True)
    replay = fields.Boolean(required=True, metadata={"description": "true: this at was already kept"})
    status = fields.String(required=True)


class KpiSummarySchema(OpenSchema):
    """Counts of every KPI the filters select (not only this page's), by category, by owning team and by
    capability served."""

    byCategory = fields.Dict(  # noqa: N815
        required=True,
        metadata={"description": "category -> status (met, missed, unknown, declared) -> count"},
    )
    byOwner = fields.Dict(  # noqa: N815
        required=True,
        metadata={
            "description": "owning team's ref (`none` when none resolves) -> category -> status -> count"
        },
    )
    byCapability = fields.Dict(  # noqa: N815
        required=True,
        metadata={
            "description": "ref of a capability the KPIs' products serve (`none` for products serving "
            "none) -> category -> status -> count; a product serving two capabilities counts under both"
        },
    )


KpiListSchema = OpenSchema.from_dict(
    {
        "items": fields.List(fields.Nested(KpiSchema), required=True),
        "totalItems": fields.Integer(required=True),
        "pageInfo": fields.Nested(PageInfoSchema, required=True),
        "summary": fields.Nested(KpiSummarySchema, required=True),
    },
    name="KpiList",
)
KpiHistorySchema = list_schema("KpiHistory", KpiPointSchema)
