"""The spec of an Initiative: a scorecard's checks (or a level) that chosen entities must reach by a day.

Platform teams keep initiatives in a repository, reviewed like every other descriptor. An initiative
acts on other teams' entities, so, like a Scorecard, only a trusted source may define one
(``catalog_sync.descriptors.trust``). It asks for either ``checks`` (every one of them passed) or a
``level`` (reached or passed), never both; ``appliesTo`` uses the API's filter syntax, as a
scorecard's does, and only entities the scorecard itself judges are in scope. Whether the scorecard,
its checks and its level exist is checked against the scorecards known where the file is read
(``references``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import ValidationError, validates_schema

from catalog_sync.descriptors.exemptions import Day, read_day
from catalog_sync.descriptors.fields import (
    FILTER_PATTERN,
    NAME_PATTERN,
    Items,
    JsonSchema,
    Ref,
    Strict,
    Text,
    UniqueItems,
    matching,
    max_chars,
    min_items,
)


def _name(what: str) -> Text:
    return Text(validate=[max_chars(63), matching(NAME_PATTERN, f"must be {what}")])


class InitiativeSpec(Strict):
    """Work a platform team asks of other teams: checks of a scorecard to pass by a due day."""

    JSON_EXTRA: ClassVar[JsonSchema] = {"oneOf": [{"required": ["checks"]}, {"required": ["level"]}]}

    owner = Ref("team", required=True, metadata={"description": "the team running the initiative (team ref)"})
    scorecard = Text(
        required=True,
        validate=[max_chars(63), matching(NAME_PATTERN, "must be a scorecard's name")],
        metadata={"description": "the scorecard whose checks the initiative asks for"},
    )
    checks = Items(
        _name("a check id"),
        validate=[min_items(1), UniqueItems()],
        metadata={"description": "ids of the scorecard's checks, every one to be passed (or give level)"},
    )
    level = Text(
        validate=[max_chars(63)],
        metadata={"description": "a level of the scorecard to be reached (or give checks)"},
    )
    applies_to = Items(
        Text(validate=[matching(FILTER_PATTERN, "must be a filter: key=value or key, joined by commas")]),
        data_key="appliesTo",
        required=True,
        validate=[min_items(1)],
        metadata={"description": "API filters (kind=product,spec.tier=1); any one selects an entity"},
    )
    starts_on = Day(
        required=True, data_key="startsOn", metadata={"description": "the first day (YYYY-MM-DD)"}
    )
    due_on = Day(required=True, data_key="dueOn", metadata={"description": "the day it is due (YYYY-MM-DD)"})

    @validates_schema
    def _check_goal_and_days(self, data: dict[str, Any], **_: Any) -> None:
        if ("checks" in data) == ("level" in data):
            found = "both" if "checks" in data else "neither"
            raise ValidationError(f"needs exactly one of checks or level (found {found})")
        if read_day(data["due_on"]) < read_day(data["starts_on"]):
            raise ValidationError({"dueOn": [f"must be on or after startsOn ({data['starts_on']})"]})
