"""The spec of a Scorecard: where it applies, its levels, and checks whose rules are a closed set of forms.

A rule is a mapping with exactly one form key; what each form means is evaluated by
``catalog_sync.scoring``. Forms and their values:

- ``field: <path>`` with at least one of ``exists: bool``, ``equals: value``, ``in: [values]``,
  ``matches: <regex>``, ``minItems: n``, ``min: x``, ``max: x`` (all given must hold);
- ``ownerResolves: true``; ``capabilityAligned: true``;
- ``ownerTeamHasRoles: [roles]``, or ``true`` for the configured ``ownership.required_team_roles``;
- ``ownerTeamMinMembers: n``;
- ``relation: {type, targetKind?, min?}`` (``min`` defaults to 1);
- ``repoFile: {paths: [...]}`` (any one of the paths exists in the repository);
- ``repoCommitWithinDays: n``; ``descriptorUpdatedWithinDays: n``;
- ``plugin: {name, options?}``: a check registered under the entry point group ``catalog_sync.checks``;
- ``kpi: {category?, status, min?}``: at least ``min`` (default 1) of the entity's KPIs have ``status``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import ValidationError, fields, validate, validates_schema

from catalog_sync.descriptors.fields import (
    FILTER_PATTERN,
    NAME_PATTERN,
    AnyMapping,
    Convert,
    Flag,
    Forms,
    Items,
    JsonSchema,
    Num,
    Scalar,
    Strict,
    Text,
    UniqueItems,
    ValidRegex,
    Whole,
    free_text,
    in_range,
    matching,
    max_chars,
    min_items,
    nested,
    non_empty,
    one_of,
    text,
    words,
)
from catalog_sync.descriptors.kpis import KPI_CATEGORIES, STATUSES
from catalog_sync.model import KINDS, RELATION_PAIRS

FIELD_OPERATORS = ("exists", "equals", "in", "matches", "minItems", "min", "max")
TARGET_KINDS = tuple(info.name for info in KINDS.values()) + tuple(
    key for key, info in KINDS.items() if key != info.name
)


class FieldRule(Strict):
    """``field`` form: tests one field of the entity (``spec.kpis``, ``metadata.tags``...)."""

    JSON_EXTRA: ClassVar[JsonSchema] = {"minProperties": 2}

    field = text(required=True, description="dotted path of the field, e.g. spec.kpis")
    exists = Flag()
    equals = Scalar()
    in_ = Items(Scalar(), data_key="in", validate=[min_items(1)])
    matches = Text(validate=[non_empty(), ValidRegex()], metadata={"format": "regex"})
    min_items = Whole(data_key="minItems", validate=[in_range(0)])
    min = Num()
    max = Num()

    @validates_schema
    def _check_operator(self, data: dict[str, Any], **_: Any) -> None:
        if len(data) < 2:
            raise ValidationError(f"needs one of {', '.join(FIELD_OPERATORS)}")


class Roles(fields.Field[Any]):
    """``ownerTeamHasRoles``: a list of roles, or ``true`` for the configured required roles."""

    default_error_messages = {
        "required": "missing required field",
        "null": "must not be null",
        "invalid": "must be true (the configured required roles) or a non-empty list of roles",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is True:
            return value
        if isinstance(value, list) and value and all(isinstance(role, str) and role for role in value):
            return value
        raise self.make_error("invalid")

    def json_schema(self, convert: Convert) -> JsonSchema:
        """``true`` or a non-empty list of non-empty strings."""
        return {
            "anyOf": [
                {"const": True},
                {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            ]
        }


class RelationRule(Strict):
    """``relation`` form: the entity has at least ``min`` relations of a type (to a kind)."""

    type = Text(required=True, validate=[one_of(sorted(RELATION_PAIRS))])
    target_kind = Text(data_key="targetKind", validate=[one_of(TARGET_KINDS)])
    min = Whole(validate=[in_range(0)], metadata={"description": "at least this many (default 1)"})


class RepoFileRule(Strict):
    """``repoFile`` form: one of several paths exists in the entity's repository."""

    paths = words(required=True, validate=[min_items(1)])


class KpiRule(Strict):
    """``kpi`` form: at least ``min`` of the entity's KPIs (of a category) have a status."""

    category = Text(validate=[one_of(KPI_CATEGORIES)], metadata={"description": "only KPIs of this family"})
    status = Text(
        required=True,
        validate=[one_of(STATUSES)],
        metadata={"description": "met, missed, unknown or declared (met: measured and on target)"},
    )
    min = Whole(validate=[in_range(0)], metadata={"description": "at least this many (default 1)"})


class PluginRule(Strict):
    """``plugin`` form: a check a Python package registers under the entry point group catalog_sync.checks."""

    name = text(required=True, description="the entry point's name")
    options = AnyMapping(metadata={"description": "passed to the check as they are"})


def _form(key: str, field: fields.Field[Any]) -> type[Strict]:
    schema: type[Strict] = Strict.from_dict({key: field}, name=f"{key[0].upper()}{key[1:]}Rule")  # type: ignore[assignment]
    return schema


def _days() -> Whole:
    return Whole(required=True, validate=[in_range(1)])


RULE_FORMS: dict[str, type[Strict]] = {
    "field": FieldRule,
    "ownerResolves": _form(
        "ownerResolves", Flag(required=True, validate=[validate.Equal(True, error="must be true")])
    ),
    "ownerTeamHasRoles": _form("ownerTeamHasRoles", Roles(required=True)),
    "ownerTeamMinMembers": _form("ownerTeamMinMembers", Whole(required=True, validate=[in_range(1)])),
    "capabilityAligned": _form(
        "capabilityAligned", Flag(required=True, validate=[validate.Equal(True, error="must be true")])
    ),
    "relation": _form("relation", nested(RelationRule, required=True)),
    "repoFile": _form("repoFile", nested(RepoFileRule, required=True)),
    "repoCommitWithinDays": _form("repoCommitWithinDays", _days()),
    "descriptorUpdatedWithinDays": _form("descriptorUpdatedWithinDays", _days()),
    "plugin": _form("plugin", nested(PluginRule, required=True)),
    "kpi": _form("kpi", nested(KpiRule, required=True)),
}


class Check(Strict):
    """One check of a scorecard: a rule, the level it counts for, and its weight in the score."""

    id = Text(
        required=True,
        validate=[max_chars(63), matching(NAME_PATTERN, "must be letters, digits, '-', '_' or '.'")],
        metadata={"description": "unique within the scorecard"},
    )
    title = text(required=True)
    description = free_text()
    level = text(required=True, description="one of the scorecard's levels")
    weight = Num(
        validate=[in_range(0, above=True)], metadata={"description": "share in the score (default 1)"}
    )
    rule = Forms(RULE_FORMS, required=True)


class ScorecardSpec(Strict):
    """A scorecard: checks grouped in levels, applied to the entities its filters select."""

    applies_to = Items(
        Text(validate=[matching(FILTER_PATTERN, "must be a filter: key=value or key, joined by commas")]),
        data_key="appliesTo",
        required=True,
        metadata={
            "description": "API filters (kind=product,spec.lifecycle=production); any one selects an entity"
        },
    )
    levels = Items(
        Text(validate=[max_chars(63)]),
        required=True,
        validate=[min_items(1), UniqueItems()],
        metadata={"description": "lowest first; each 1 to 63 characters, as the catalog stores them"},
    )
    checks = nested(Check, many=True, required=True, validate=[min_items(1)])

    @validates_schema
    def _check_ids_and_levels(self, data: dict[str, Any], **_: Any) -> None:
        levels = data["levels"]
        errors: dict[int, dict[str, list[str]]] = {}
        seen: dict[str, int] = {}
        for index, check in enumerate(data["checks"]):
            if check["id"] in seen:
                errors.setdefault(index, {})["id"] = [
                    f"duplicate check id (also checks[{seen[check['id']]}])"
                ]
            seen.setdefault(check["id"], index)
            if check["level"] not in levels:
                errors.setdefault(index, {})["level"] = [f"must be one of {', '.join(levels)} (the levels)"]
        if errors:
            raise ValidationError({"checks": errors})
