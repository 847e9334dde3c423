"""Exemptions at scoring time: which checks of one scorecard an entity is excused from today.

An exemption (``spec.exemptions`` of the entity, see ``catalog_sync.descriptors.exemptions``) holds
through its ``until`` day, UTC, and ends when the next day begins: the scorer is told so through the
result's ``valid_until`` (``ends_at``), which is how the check fails again that day without anything
being synced. An exemption naming a scorecard or check that no longer exists is ignored; one whose day
has passed is mentioned in the check's message, so the person reading it sees why it fails again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from catalog_sync.descriptors.exemptions import read_day


@dataclass(frozen=True)
class Grant:
    """One exemption of one check: why, until which day, approved by whom."""

    reason: str
    until: date
    approved_by: str

    def to_dict(self) -> dict[str, str]:
        """The form stored with the check's result and shown by the API."""
        return {"reason": self.reason, "until": self.until.isoformat(), "approvedBy": self.approved_by}


def ends_at(until: date) -> datetime:
    """The moment an exemption ends: the start of the day after ``until``, UTC."""
    return datetime.combine(until + timedelta(days=1), time(), tzinfo=UTC)


def grants_for(spec: Mapping[str, Any], scorecard: str) -> dict[str, Grant]:
    """The entity's exemptions of one scorecard's checks, by check id (the latest day wins a repeat)."""
    found: dict[str, Grant] = {}
    written = spec.get("exemptions")
    if not isinstance(written, list):
        return found
    for item in written:
        if not isinstance(item, Mapping) or item.get("scorecard") != scorecard:
            continue
        try:
            until = read_day(str(item.get("until")))
        except ValueError:
            continue
        grant = Grant(str(item.get("reason") or ""), until, str(item.get("approvedBy") or ""))
        check = str(item.get("check"))
        if check not in found or found[check].until < until:
            found[check] = grant
    return found


def is_active(grant: Grant, now: datetime) -> bool:
    """Whether the exemption still holds at ``now``."""
    return now < ends_at(grant.until)
