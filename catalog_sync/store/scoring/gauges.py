"""The aggregates the Prometheus gauges read at scrape time, each a read of a small table.

``catalog_sync.metrics`` calls three functions, whatever the catalog's size (``gap_counts`` one GROUP
BY over an indexed table, the scorecard ones a read of the summaries ``summaries`` keeps), so a scrape
costs milliseconds and every replica reports the same:

- ``gap_counts(conn)`` -> ``[(type, tier, count)]`` for ``catalog_ownership_gaps{type, tier}``;
  ``tier`` is ``"1"`` to ``"4"`` or ``"none"``;
- ``scorecard_level_counts(conn)`` -> ``[(scorecard, level, count)]`` for
  ``catalog_scorecard_entities{scorecard, level}``; ``level`` is ``"none"`` below the first level, and
  every level of every scorecard is listed, with 0 when no entity is at it (so a series drops to 0
  instead of going stale);
- ``score_totals_by_owner(conn)`` -> ``[(scorecard, owner, entities, score sum)]`` and
  ``scorecard_definitions(conn)`` -> ``[(name, origin, levels)]``, from which ``metric_labels``
  names a bounded set of scorecards and owners and weights the averages of the rest;
- ``score_averages_by_owner(conn)`` -> ``[(scorecard, owner, average)]`` for
  ``catalog_scorecard_score_average{scorecard, owner}``; ``owner`` is the owning team's ref
  (``team:default/payments``), ``"none"`` for entities without a team owner.

The scorecard numbers equal a GROUP BY over ``scorecard_results`` after every re-score. Between
re-scores the results change only when an entity is deleted (the database deletes its results with
it); the summaries keep counting them until the next re-score, as the results of an entity orphaned
since the last re-score are also kept until then.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, func, select

from catalog_sync.store.scoring.summaries import average, level_totals, owner_totals
from catalog_sync.store.tables import ownership_gaps, scorecards

NONE_LABEL = "none"


def gap_counts(conn: Connection) -> list[tuple[str, str, int]]:
    """Ownership gaps counted by type and tier."""
    query = (
        select(ownership_gaps.c.type, ownership_gaps.c.tier, func.count())
        .group_by(ownership_gaps.c.type, ownership_gaps.c.tier)
        .order_by(ownership_gaps.c.type, ownership_gaps.c.tier)
    )
    return [(row[0], row[1] or NONE_LABEL, int(row[2])) for row in conn.execute(query)]


def scorecard_level_counts(conn: Connection) -> list[tuple[str, str, int]]:
    """Entities per scorecard and level, every defined level present (0 when empty)."""
    counts = {(card, level or NONE_LABEL): count for card, level, count, _ in level_totals(conn)}
    for name, levels in conn.execute(select(scorecards.c.name, scorecards.c.levels)):
        for level in [NONE_LABEL, *json.loads(levels)]:
            counts.setdefault((name, level), 0)
    return sorted((card, level, count) for (card, level), count in counts.items())


def score_totals_by_owner(conn: Connection) -> list[tuple[str, str, int, float]]:
    """``(scorecard, owner, entities, score sum)`` per scorecard and owning team, so that averages of
    several owners together can be weighted by their entities."""
    rows = [
        (card, owner or NONE_LABEL, count, score / 10) for card, owner, count, score in owner_totals(conn)
    ]
    return sorted(rows)


def scorecard_definitions(conn: Connection) -> list[tuple[str, str, list[str]]]:
    """``(name, origin, levels lowest first)`` of every stored scorecard."""
    query = select(scorecards.c.name, scorecards.c.origin, scorecards.c.levels).order_by(scorecards.c.name)
    return [(name, origin, list(json.loads(levels))) for name, origin, levels in conn.execute(query)]


def score_averages_by_owner(conn: Connection) -> list[tuple[str, str, float]]:
    """The average score per scorecard and owning team (two decimals)."""
    rows = [
        (card, owner or NONE_LABEL, average(score, count, 2) or 0.0)
        for card, owner, count, score in owner_totals(conn)
    ]
    return sorted(rows)
