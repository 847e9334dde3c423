"""A sparkline of a scorecard's average score per day, drawn as inline SVG on the server.

A trend needs a few dozen points and one line: an SVG ``polyline`` computed here shows it without a
chart library or any script, prints, and scales. Days are placed by date, so a day without a
re-score leaves a gap in time rather than squeezing the line. Scores run from 0 to 100, so the
vertical scale is fixed and two scorecards' lines compare at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH = 320
HEIGHT = 64
PADDING = 6
MAX_SCORE = 100.0


@dataclass(frozen=True)
class Dot:
    """One day's point: where it is drawn and what it says."""

    x: float
    y: float
    day: str
    score: float


@dataclass(frozen=True)
class Sparkline:
    """What the template draws: the line's points, its dots, and a sentence for screen readers."""

    width: int
    height: int
    points: str
    dots: tuple[Dot, ...]
    baseline: float
    summary: str


def sparkline(points: Sequence[tuple[str, float | None]]) -> Sparkline | None:
    """The sparkline of ``(day, average score)`` points, oldest first; None when no day has a score."""
    scored = [(date.fromisoformat(day), day, float(value)) for day, value in points if value is not None]
    if not scored:
        return None
    first, last = scored[0][0], scored[-1][0]
    span = max((last - first).days, 1)
    inner_width, inner_height = WIDTH - 2 * PADDING, HEIGHT - 2 * PADDING
    dots = []
    for when, day, value in scored:
        offset = (when - first).days / span if len(scored) > 1 else 0.5
        x = PADDING + offset * inner_width
        y = PADDING + (1 - min(max(value, 0.0), MAX_SCORE) / MAX_SCORE) * inner_height
        dots.append(Dot(round(x, 1), round(y, 1), day, value))
    lowest = min(dot.score for dot in dots)
    highest = max(dot.score for dot in dots)
    summary = (
        f"Average score from {dots[0].day} ({dots[0].score:.1f}) to {dots[-1].day} ({dots[-1].score:.1f}), "
        f"lowest {lowest:.1f}, highest {highest:.1f}, over {len(dots)} day{'s' if len(dots) != 1 else ''}"
    )
    return Sparkline(
        width=WIDTH,
        height=HEIGHT,
        points=" ".join(f"{dot.x},{dot.y}" for dot in dots),
        dots=tuple(dots),
        baseline=float(HEIGHT - PADDING),
        summary=summary,
    )
