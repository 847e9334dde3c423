"""Scorecard results kept over time: one point per scorecard, level and day, for trends.

Each re-score replaces today's points with the current totals of ``scorecard_level_summary``
(entities per level, and the sum of their scores, so an average over any set of levels is exact). A
day's last re-score is what stays. Points older than ``RETENTION_DAYS`` are deleted, so the table is
bounded by scorecards x levels x 400 rows whatever the catalog's size. Days are UTC dates
(``YYYY-MM-DD``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from catalog_sync.store.scoring.summaries import level_totals
from catalog_sync.store.tables import scorecard_history, scorecards

RETENTION_DAYS = 400
"""Days of points kept; older ones are deleted at the next re-score."""
MAX_DAYS = RETENTION_DAYS
"""The longest history the API answers: everything kept."""


def record_day(conn: Connection, now: datetime) -> None:
    """Replace today's points with the current totals, and drop points past retention."""
    day = now.date().isoformat()
    rows = level_totals(conn)
    conn.execute(delete(scorecard_history).where(scorecard_history.c.day == day))
    points = [
        {"day": day, "scorecard": card, "level": level, "entities": count, "score_sum": score / 10}
        for card, level, count, score in rows
    ]
    known = {card for card, _, _, _ in rows}
    for name in conn.execute(select(scorecards.c.name)).scalars():
        if name not in known:  # a scorecard that applies to nothing still has a point: zero entities
            points.append({"day": day, "scorecard": name, "level": "", "entities": 0, "score_sum": 0.0})
    if points:
        conn.execute(insert(scorecard_history), points)
    oldest = (now.date() - timedelta(days=RETENTION_DAYS)).isoformat()
    conn.execute(delete(scorecard_history).where(scorecard_history.c.day < oldest))


@dataclass
class DayPoint:
    """One day of one scorecard: entities per level (``none`` below the first) and the average score."""

    day: str
    levels: dict[str, int] = field(default_factory=dict)
    entities: int = 0
    score_sum: float = 0.0

    @property
    def average_score(self) -> float | None:
        """The average score of that day's entities, None when there were none."""
        return round(self.score_sum / self.entities, 1) if self.entities else None


def read_history(conn: Connection, scorecard: str, days: int, today: date) -> list[DayPoint]:
    """The daily points of one scorecard over the last ``days`` days (today included), oldest first."""
    levels_json = conn.execute(select(scorecards.c.levels).where(scorecards.c.name == scorecard)).scalar()
    levels = ["none", *json.loads(levels_json)] if levels_json else ["none"]
    first = (today - timedelta(days=days - 1)).isoformat()
    query = (
        select(scorecard_history)
        .where(scorecard_history.c.scorecard == scorecard, scorecard_history.c.day >= first)
        .order_by(scorecard_history.c.day)
    )
    points: dict[str, DayPoint] = {}
    for row in conn.execute(query):
        point = points.setdefault(row.day, DayPoint(row.day, dict.fromkeys(levels, 0)))
        level = row.level or "none"
        point.levels[level] = point.levels.get(level, 0) + row.entities
        point.entities += row.entities
        point.score_sum += row.score_sum
    return list(points.values())
