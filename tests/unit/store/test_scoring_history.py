"""Daily points: today's replaced by every re-score, older ones kept up to the retention, then dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select

from catalog_sync.store.scoring.history import RETENTION_DAYS, read_history, record_day
from catalog_sync.store.tables import scorecard_history, scorecards

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_points_are_kept_per_day_within_the_retention(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        conn.execute(
            insert(scorecards).values(
                name="s", title="S", description="", origin="builtin", levels=json.dumps(["ok"]),
                definition="{}", digest="d", updated_at=NOW,
            )
        )  # fmt: skip
        old = (NOW - timedelta(days=RETENTION_DAYS + 1)).date().isoformat()
        kept = (NOW - timedelta(days=3)).date().isoformat()
        conn.execute(
            insert(scorecard_history),
            [
                {"day": old, "scorecard": "s", "level": "ok", "entities": 5, "score_sum": 500.0},
                {"day": kept, "scorecard": "s", "level": "ok", "entities": 2, "score_sum": 150.0},
                {"day": kept, "scorecard": "s", "level": "", "entities": 2, "score_sum": 50.0},
            ],
        )
        record_day(conn, NOW)
        record_day(conn, NOW)  # a second re-score the same day replaces the day's points
        days = sorted(set(conn.execute(select(scorecard_history.c.day)).scalars()))
        points = read_history(conn, "s", 30, NOW.date())
    assert days == [kept, NOW.date().isoformat()]
    assert [(p.day, p.entities, p.levels, p.average_score) for p in points] == [
        (kept, 4, {"none": 2, "ok": 2}, 50.0),
        (NOW.date().isoformat(), 0, {"none": 0, "ok": 0}, None),
    ]
