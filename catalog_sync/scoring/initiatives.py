"""Initiatives judged: which entities are in scope, which are done, per team, and whether the initiative
will make its due day at the pace of the last two weeks.

Pure decisions from plain data; the store loads the scorecard results and keeps what comes out
(``catalog_sync.store.initiatives``).

- **In scope**: the entities the initiative's ``appliesTo`` selects that its scorecard judges (an
  entity the scorecard does not apply to has nothing to do). Orphans are not judged, so not in scope.
- **Done**: every check named in ``checks`` passed (an exempted check counts as passed), or the
  scorecard's ``level`` reached or passed.
- **At risk**: not done, and either past its due day, or the straight line fitted through the daily
  share done of the last ``TREND_DAYS`` days does not reach 100% by the due day. With fewer than two
  days of points there is no trend yet and only a past due day makes it at risk.
- **Status**: ``planned`` before ``startsOn``, ``done`` when everything in scope is done (and something
  is), ``overdue`` after ``dueOn`` otherwise, else ``active``.

``due_notices`` answers which initiatives are due in 14, 7 or 1 days, or overdue, on a given day: the
plain question behind the ``initiative_due`` and ``initiative_overdue`` notifications.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from catalog_sync.descriptors.exemptions import read_day
from catalog_sync.errors import QueryError
from catalog_sync.model import Entity, EntityRef
from catalog_sync.scoring.definitions import ScorecardDef
from catalog_sync.store.filters import EntityFilter, parse_filters

TREND_DAYS = 14
"""The days of burn-up the trend is fitted on."""
DUE_DAYS = (14, 7, 1)
"""Days before ``dueOn`` on which an initiative is announced as due."""


@dataclass(frozen=True)
class InitiativeDef:
    """An initiative ready to judge."""

    name: str
    entity_ref: str
    title: str
    owner: str
    scorecard: str
    checks: tuple[str, ...] | None
    level: str | None
    applies_to: tuple[str, ...]
    entity_filter: EntityFilter
    starts_on: date
    due_on: date

    def goal(self) -> dict[str, Any]:
        """What it asks for, as the API shows it: ``{checks: [...]}`` or ``{level: ...}``."""
        return {"checks": list(self.checks)} if self.checks is not None else {"level": self.level}


@dataclass(frozen=True)
class Candidate:
    """One entity the scorecard judged and the filter selected: its result, as stored."""

    entity_id: int
    entity_ref: str
    owner: str
    level_rank: int
    checks: Sequence[Mapping[str, Any]]


@dataclass
class Progress:
    """One initiative's progress today."""

    definition: InitiativeDef
    in_scope: int = 0
    done: int = 0
    teams: dict[str, list[int]] = field(default_factory=dict)
    """owner team (``""`` for none) -> [in scope, done]."""
    entities: list[tuple[int, str, str, bool]] = field(default_factory=list)
    """(entity id, ref, owner, done) of each entity in scope."""
    status: str = "active"
    at_risk: bool = False
    projected: float | None = None
    """The share done the trend reaches on the due day (0-1, may pass 1), None without a trend."""

    def team_list(self) -> list[dict[str, Any]]:
        """Per owning team, most not done first: ``{team, inScope, done, notDone}``."""
        rows = [
            {"team": team or None, "inScope": counts[0], "done": counts[1], "notDone": counts[0] - counts[1]}
            for team, counts in self.teams.items()
        ]
        return sorted(rows, key=lambda row: (-row["notDone"], row["team"] or ""))


def build_initiative(entity: Entity) -> InitiativeDef:
    """A validated Initiative entity, ready to judge; QueryError when ``appliesTo`` cannot be used."""
    spec = entity.spec
    applies_to = tuple(str(text) for text in spec["appliesTo"])
    entity_filter = parse_filters(applies_to)
    if entity_filter is None:
        raise QueryError("appliesTo", "selects nothing: give at least one filter such as kind=product")
    checks = spec.get("checks")
    return InitiativeDef(
        name=entity.name,
        entity_ref=str(entity.ref),
        title=str(entity.metadata.get("title") or entity.name),
        owner=EntityRef.parse(
            str(spec["owner"]), default_kind="team", default_namespace=entity.namespace
        ).key,
        scorecard=str(spec["scorecard"]),
        checks=tuple(str(c) for c in checks) if checks is not None else None,
        level=str(spec["level"]) if "level" in spec else None,
        applies_to=applies_to,
        entity_filter=entity_filter,
        starts_on=read_day(str(spec["startsOn"])),
        due_on=read_day(str(spec["dueOn"])),
    )


def is_done(definition: InitiativeDef, card: ScorecardDef, candidate: Candidate) -> bool:
    """Whether one entity has done what the initiative asks (an exempted check counts as passed)."""
    if definition.checks is not None:
        passed = {str(c.get("id")) for c in candidate.checks if c.get("passed") is True}
        return all(check in passed for check in definition.checks)
    if definition.level not in card.levels:
        return False
    return candidate.level_rank >= card.levels.index(definition.level) + 1


def judge_progress(
    definition: InitiativeDef, card: ScorecardDef | None, candidates: Iterable[Candidate]
) -> Progress:
    """Count an initiative's entities in scope and done, in all and per owning team."""
    progress = Progress(definition)
    if card is None:
        return progress
    for candidate in candidates:
        done = is_done(definition, card, candidate)
        progress.in_scope += 1
        progress.done += done
        counts = progress.teams.setdefault(candidate.owner, [0, 0])
        counts[0] += 1
        counts[1] += done
        progress.entities.append((candidate.entity_id, candidate.entity_ref, candidate.owner, done))
    return progress


def status_of(definition: InitiativeDef, in_scope: int, done: int, today: date) -> str:
    """``planned``, ``active``, ``done`` or ``overdue`` (see the module doc)."""
    if in_scope and done >= in_scope:
        return "done"
    if today < definition.starts_on:
        return "planned"
    if today > definition.due_on:
        return "overdue"
    return "active"


def fitted_share(points: Sequence[tuple[date, float]], on: date) -> float | None:
    """The share done on ``on`` by the least-squares line through ``points``; None with fewer than
    two distinct days."""
    if len({day for day, _ in points}) < 2:
        return None
    origin = points[0][0]
    xs = [(day - origin).days for day, _ in points]
    ys = [share for _, share in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return mean_y + slope * ((on - origin).days - mean_x)


def judge_risk(progress: Progress, points: Sequence[tuple[date, int, int]], today: date) -> None:
    """Set ``status``, ``projected`` and ``at_risk`` from the burn-up points of the last days."""
    definition = progress.definition
    progress.status = status_of(definition, progress.in_scope, progress.done, today)
    recent = [
        (day, done / in_scope if in_scope else 1.0)
        for day, in_scope, done in points
        if 0 <= (today - day).days < TREND_DAYS
    ]
    projected = fitted_share(sorted(recent), definition.due_on)
    progress.projected = round(projected, 4) if projected is not None else None
    if progress.status in ("done", "planned"):
        progress.at_risk = False
    elif progress.status == "overdue":
        progress.at_risk = True
    else:
        progress.at_risk = projected is not None and projected < 1.0


@dataclass(frozen=True)
class DueNotice:
    """One initiative to announce today: ``initiative_due`` with the days left, or ``initiative_overdue``."""

    name: str
    event: str
    due_on: date
    days_left: int


def due_notices(initiatives: Iterable[Mapping[str, Any]], today: date) -> list[DueNotice]:
    """Which initiatives are due in 14, 7 or 1 days, or overdue, on ``today``.

    Each initiative is an API item (``name``, ``dueOn``, ``inScope``, ``done``); a done one is never
    announced. An overdue one is announced every day it stays overdue (the outbox deduplicates within
    a day).
    """
    notices: list[DueNotice] = []
    for item in initiatives:
        in_scope, done = int(item.get("inScope") or 0), int(item.get("done") or 0)
        if in_scope and done >= in_scope:
            continue
        try:
            due_on = read_day(str(item.get("dueOn")))
        except ValueError:
            continue
        days_left = (due_on - today).days
        if days_left in DUE_DAYS:
            notices.append(DueNotice(str(item["name"]), "initiative_due", due_on, days_left))
        elif days_left < 0:
            notices.append(DueNotice(str(item["name"]), "initiative_overdue", due_on, days_left))
    return notices


def checks_of(text: str | None) -> list[dict[str, Any]]:
    """The stored checks of a result (JSON text) as a list, empty when unreadable."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []
