"""Exemptions: a check an entity is excused from, written in the entity's own descriptor.

An exemption lives in ``spec.exemptions`` of the exempted entity (never in annotations), so granting
one is a reviewed change to that repository like any other. Each names a scorecard and one of its
checks, says why, who approved it and until when; ``until`` is a day (``YYYY-MM-DD``, UTC) at most
``MAX_EXEMPTION_DAYS`` ahead of the day the descriptor is read, so nobody grants a permanent one by
writing a far date. A day already past is accepted: the exemption has simply ended, and the check is
judged again (``catalog_sync.scoring.exemptions``). Whether the scorecard and the check exist is
checked against the scorecards known where the file is read (``references``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from marshmallow import ValidationError

from catalog_sync.descriptors.fields import (
    NAME_PATTERN,
    Convert,
    JsonSchema,
    Strict,
    Text,
    matching,
    max_chars,
    nested,
    text,
)

MAX_EXEMPTION_DAYS = 180
"""How far ahead an exemption's ``until`` may be, counted from the day the descriptor is read."""
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DAY = re.compile(DAY_PATTERN)
MAX_REASON_CHARS = 500


def today() -> date:
    """The current UTC day: descriptors, scoring and the API count days the same way."""
    return datetime.now(UTC).date()


def read_day(value: str) -> date:
    """A ``YYYY-MM-DD`` text as a date; ValueError when it is not a real day."""
    if not _DAY.match(value):
        raise ValueError(value)
    return date.fromisoformat(value)


class Day(Text):
    """A calendar day written ``YYYY-MM-DD`` (quoted or not: the loader keeps it as text)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        written = super()._deserialize(value, attr, data, **kwargs)
        try:
            read_day(written)
        except ValueError:
            raise ValidationError(f"must be a day written YYYY-MM-DD (found {written[:40]!r})") from None
        return written

    def json_schema(self, convert: Convert) -> JsonSchema:
        """A string of the ``date`` format."""
        return {
            "type": "string",
            "format": "date",
            "pattern": DAY_PATTERN,
            "patternErrorMessage": "must be a day written YYYY-MM-DD",
        }


class Until(Day):
    """An exemption's last day, at most ``MAX_EXEMPTION_DAYS`` ahead."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        written = super()._deserialize(value, attr, data, **kwargs)
        latest = today() + timedelta(days=MAX_EXEMPTION_DAYS)
        if read_day(written) > latest:
            raise ValidationError(
                f"must be at most {MAX_EXEMPTION_DAYS} days ahead (on or before {latest.isoformat()}); "
                "renew the exemption in a later change if it is still needed"
            )
        return written


def _check_id() -> Text:
    return Text(
        required=True,
        validate=[max_chars(63), matching(NAME_PATTERN, "must be letters, digits, '-', '_' or '.'")],
        metadata={"description": "the id of one of the scorecard's checks"},
    )


class Exemption(Strict):
    """One check this entity is excused from, why, who approved it, and until which day."""

    scorecard = Text(
        required=True,
        validate=[max_chars(63), matching(NAME_PATTERN, "must be a scorecard's name")],
        metadata={"description": "the scorecard's name"},
    )
    check = _check_id()
    reason = Text(
        required=True,
        validate=[max_chars(MAX_REASON_CHARS)],
        metadata={"description": "why the check does not apply for now"},
    )
    until = Until(
        required=True,
        metadata={
            "description": f"the last day it holds (YYYY-MM-DD, at most {MAX_EXEMPTION_DAYS} days ahead)"
        },
    )
    approved_by = text(
        required=True, data_key="approvedBy", description="who approved it (a person or a team ref)"
    )


def exemptions_field() -> Any:
    """``spec.exemptions``: the same field on every kind a scorecard may judge."""
    return nested(Exemption, many=True, description="checks of a scorecard this entity is excused from")
