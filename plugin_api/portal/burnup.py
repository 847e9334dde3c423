"""An initiative's burn-up drawn as inline SVG on the server: entities done per day against those in scope.

Like the scorecard sparkline, no chart library and no script: two ``polyline``s (in scope, done) over
days placed by date from the first point (or ``startsOn``) to ``dueOn``, a dashed line from the first
day's done to everything done on the due day (the pace needed), and a marker on the due day, so a
flat line that will not meet the target shows at a glance. A sentence says the same for screen readers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

WIDTH = 560
HEIGHT = 180
PADDING = 24


@dataclass(frozen=True)
class BurnUp:
    """What the template draws."""

    width: int
    height: int
    scope: str
    done: str
    pace: str
    due_x: float
    baseline: float
    top: float
    most: int
    first_day: str
    due_day: str
    summary: str


def burn_up(points: Sequence[Mapping[str, Any]], starts_on: str, due_on: str) -> BurnUp | None:
    """The burn-up of ``{day, inScope, done}`` points, oldest first; None without a point."""
    if not points:
        return None
    days = [date.fromisoformat(str(point["day"])) for point in points]
    due = date.fromisoformat(due_on)
    first = min(days[0], date.fromisoformat(starts_on))
    last = max(days[-1], due)
    span = max((last - first).days, 1)
    most = max(1, *(int(point["inScope"]) for point in points))
    inner_width, inner_height = WIDTH - 2 * PADDING, HEIGHT - 2 * PADDING

    def x(day: date) -> float:
        return round(PADDING + (day - first).days / span * inner_width, 1)

    def y(count: int) -> float:
        return round(PADDING + (1 - count / most) * inner_height, 1)

    scope = " ".join(f"{x(d)},{y(int(p['inScope']))}" for d, p in zip(days, points, strict=True))
    done = " ".join(f"{x(d)},{y(int(p['done']))}" for d, p in zip(days, points, strict=True))
    pace = f"{x(days[0])},{y(int(points[0]['done']))} {x(due)},{y(int(points[-1]['inScope']))}"
    latest = points[-1]
    summary = (
        f"{latest['done']} of {latest['inScope']} done on {latest['day']}, "
        f"{points[0]['done']} of {points[0]['inScope']} on {points[0]['day']}; due {due_on}"
    )
    return BurnUp(
        width=WIDTH,
        height=HEIGHT,
        scope=scope,
        done=done,
        pace=pace,
        due_x=x(due),
        baseline=float(HEIGHT - PADDING),
        top=float(PADDING),
        most=most,
        first_day=first.isoformat(),
        due_day=due_on,
        summary=summary,
    )
