"""A Product's KPIs: the declaration (name, category, target) and, optionally, how it is measured.

A KPI without ``measure`` is declared only, as every KPI was before measuring existed, so old
descriptors stay valid. A measured KPI names exactly one way: a PromQL expression (``$window`` is
replaced by the KPI's window when it is run), a ``git`` measure computed from the repository, or
``push: true`` for values posted through the API. What JSON Schema cannot say is checked here: the
expression parses as PromQL, a measured KPI's target is a number, and ids are unique in the product.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import promql_parser
from marshmallow import ValidationError, validate, validates_schema

from catalog_sync.descriptors.fields import (
    Flag,
    Forms,
    JsonSchema,
    Scalar,
    Strict,
    Text,
    matching,
    max_chars,
    non_empty,
    one_of,
    text,
)

KPI_CATEGORIES = (
    "speed-to-market",
    "customer-satisfaction",
    "business-alignment",
    "team-performance",
    "other",
)
DIRECTIONS = ("at-least", "at-most")
GIT_MEASURES = ("release-frequency", "lead-time-for-changes", "change-frequency")
MEASURE_KINDS = ("prometheus", "git", "push")
DEFAULT_WINDOW = "30d"
DEFAULT_DIRECTION = "at-least"
ID_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
WINDOW_PATTERN = r"^[1-9][0-9]{0,3}[mhdw]$"
MAX_QUERY_CHARS = 4000
WINDOW_PLACEHOLDER = "$window"
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def window_seconds(window: str) -> int:
    """The length of a window such as ``30d``; measures count events per window in seconds."""
    return int(window[:-1]) * _UNIT_SECONDS[window[-1]]


def kpi_id(kpi: Mapping[str, Any]) -> str:
    """The KPI's id: the one written, else its name in lower case with runs of other characters as '-'.

    Empty when the name has no letter or digit; validation then asks for an explicit id.
    """
    written = kpi.get("id")
    if isinstance(written, str) and written:
        return written
    name = kpi.get("name")
    slug = _NOT_SLUG.sub("-", name.lower()).strip("-") if isinstance(name, str) else ""
    return slug[:63].rstrip("-")


def measure_kind(kpi: Mapping[str, Any]) -> str:
    """``prometheus``, ``git``, ``push``, or ``declared`` for a KPI that is not measured."""
    measure = kpi.get("measure")
    if isinstance(measure, Mapping):
        for kind in MEASURE_KINDS:
            if kind in measure:
                return kind
    return "declared"


def substitute_window(query: str, window: str) -> str:
    """The query as Prometheus is asked it: ``$window`` replaced by the KPI's window."""
    return query.replace(WINDOW_PLACEHOLDER, window)


class ValidPromQL(validate.Validator):
    """An expression Prometheus would accept, so a typo is found when the file is read, not at 3 a.m."""

    def __call__(self, value: Any) -> Any:
        if len(value) > MAX_QUERY_CHARS:
            raise ValidationError(f"must be at most {MAX_QUERY_CHARS} characters")
        try:
            promql_parser.parse(substitute_window(value, "1d"))
        except ValueError as exc:
            raise ValidationError(f"not a valid PromQL expression: {exc}") from None
        return value


class PrometheusMeasure(Strict):
    """``prometheus`` form: an instant query whose one sample is the KPI's value."""

    prometheus = Text(
        required=True,
        validate=[non_empty(), ValidPromQL()],
        metadata={"description": "a PromQL expression; $window is replaced by the KPI's window"},
    )


class GitMeasure(Strict):
    """``git`` form: a measure computed from the repository's release tags and commits."""

    git = Text(
        required=True,
        validate=[one_of(GIT_MEASURES)],
        metadata={"description": "what to count in the repository per window"},
    )


class PushMeasure(Strict):
    """``push`` form: values posted through the API (survey results, figures from finance)."""

    push = Flag(
        required=True,
        validate=[validate.Equal(True, error="must be true")],
        metadata={"description": "true: values are posted to /api/kpis/.../values"},
    )


MEASURE_FORMS: dict[str, type[Strict]] = {
    "prometheus": PrometheusMeasure,
    "git": GitMeasure,
    "push": PushMeasure,
}


class Kpi(Strict):
    """A measure the product is steered by, in one of the IT product model's four families."""

    JSON_EXTRA: ClassVar[JsonSchema] = {
        "if": {"required": ["measure"]},
        "then": {"properties": {"target": {"type": "number"}}},
    }

    name = text(required=True, description="what is measured, e.g. lead time for changes")
    id = Text(
        validate=[max_chars(63), matching(ID_PATTERN, "must be lower-case letters, digits and '-'")],
        metadata={"description": "unique in the product; default: the name in lower case, words joined by -"},
    )
    category = Text(
        required=True, validate=[one_of(KPI_CATEGORIES)], metadata={"description": "the family of the KPI"}
    )
    target = Scalar(required=True, booleans=False, metadata={"description": "the value aimed for"})
    direction = Text(
        validate=[one_of(DIRECTIONS)],
        metadata={"description": "at-least (default): higher is better; at-most: lower is better"},
    )
    unit = text(description="the unit of the target, e.g. days or %")
    window = Text(
        validate=[matching(WINDOW_PATTERN, "must be a number and a unit m, h, d or w, e.g. 30d")],
        metadata={"description": "the period one measurement covers (default 30d)"},
    )
    measure = Forms(MEASURE_FORMS, metadata={"description": "how the KPI is measured; none: declared only"})

    @validates_schema
    def _check_measured_target(self, data: dict[str, Any], **_: Any) -> None:
        if "measure" in data and isinstance(data["target"], str):
            raise ValidationError("must be a number when the KPI has a measure", field_name="target")
        if not kpi_id(data):
            raise ValidationError("the name gives no id (no letter or digit): write an id", field_name="id")


def check_unique_ids(kpis: Sequence[Mapping[str, Any]]) -> None:
    """Refuse two KPIs of one product with the same id: values and history are kept by id."""
    errors: dict[int, dict[str, list[str]]] = {}
    seen: dict[str, int] = {}
    for index, kpi in enumerate(kpis):
        ident = kpi_id(kpi)
        if ident in seen:
            errors[index] = {"id": [f"duplicate KPI id {ident!r} (also kpis[{seen[ident]}])"]}
        seen.setdefault(ident, index)
    if errors:
        raise ValidationError({"kpis": errors})


STATUSES = ("met", "missed", "unknown", "declared")


def judge(kpi: Mapping[str, Any], value: float | None, error: str | None) -> str:
    """The KPI's status against its *current* target: ``declared`` when it has no measure, ``unknown``
    without a value or when the last measurement failed, else ``met`` or ``missed`` by its direction.

    Judged when read rather than stored, so a target edited in the descriptor applies at once.
    """
    if measure_kind(kpi) == "declared":
        return "declared"
    target = kpi.get("target")
    if value is None or error is not None or isinstance(target, bool) or not isinstance(target, int | float):
        return "unknown"
    if kpi.get("direction", DEFAULT_DIRECTION) == "at-most":
        return "met" if value <= target else "missed"
    return "met" if value >= target else "missed"
