"""Writing scoring's tables, and the aggregates the Prometheus gauges read at scrape time.

The gauges (``catalog_sync.metrics``) call three functions, each a read of a small table whatever the
catalog's size (``gap_counts`` one GROUP BY over an indexed table, the scorecard ones a read of the
summaries ``summary`` keeps), so a scrape costs milliseconds and every replica reports the same:

- ``gap_counts(conn)`` -> ``[(type, tier, count)]`` for ``catalog_ownership_gaps{type, tier}``;
  ``tier`` is ``"1"`` to ``"4"`` or ``"none"``;
- ``scorecard_level_counts(conn)`` -> ``[(scorecard, level, count)]`` for
  ``catalog_scorecard_entities{scorecard, level}``; ``level`` is ``"none"`` below the first level, and
  every level of every scorecard is listed, with 0 when no entity is at it (so a series drops to 0
  instead of going stale);
- ``score_averages_by_owner(conn)`` -> ``[(scorecard, owner, average)]`` for
  ``catalog_scorecard_score_average{scorecard, owner}``; ``owner`` is the owning team's ref
  (``team:default/payments``), ``"none"`` for entities without a team owner.

The scorecard numbers equal a GROUP BY over ``scorecard_results`` after every re-score (the summaries
are written in its transaction). Between re-scores the results change only when an entity is
deleted (the database deletes its results with it); the summaries keep counting them until the next
re-score, as the results of an entity orphaned since the last re-score are also kept until then.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from catalog_sync.scoring.definitions import Definitions
from catalog_sync.scoring.evaluate import EntityOutcome
from catalog_sync.scoring.gaps import Gap
from catalog_sync.scoring.loader import chunks
from catalog_sync.scoring.summary import (
    SummaryChanges,
    average,
    dump_tallies,
    level_totals,
    load_tallies,
    owner_totals,
    tenths,
)
from catalog_sync.store.tables import (
    ownership_gaps,
    repositories,
    scorecard_level_summary,
    scorecard_owner_summary,
    scorecard_results,
    scorecards,
    scoring_dependencies,
    scoring_repositories,
    scoring_state,
    scoring_subjects,
)

NONE_LABEL = "none"


# -- the metrics' aggregates ---------------------------------------------------------------------------


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


def score_averages_by_owner(conn: Connection) -> list[tuple[str, str, float]]:
    """The average score per scorecard and owning team (two decimals)."""
    rows = [
        (card, owner or NONE_LABEL, average(score, count, 2) or 0.0)
        for card, owner, count, score in owner_totals(conn)
    ]
    return sorted(rows)


# -- state ----------------------------------------------------------------------------------------------


def read_state(conn: Connection, key: str) -> str | None:
    """One value of ``scoring_state``."""
    found: str | None = conn.execute(select(scoring_state.c.value).where(scoring_state.c.key == key)).scalar()
    return found


def write_state(conn: Connection, values: dict[str, str]) -> None:
    """Replace values of ``scoring_state``."""
    conn.execute(delete(scoring_state).where(scoring_state.c.key.in_(list(values))))
    conn.execute(insert(scoring_state), [{"key": k, "value": v} for k, v in values.items()])


def write_definitions(conn: Connection, definitions: Definitions, now: datetime) -> None:
    """Publish the evaluated scorecards, for the API (which never reads scorecard files itself)."""
    conn.execute(delete(scorecards))
    rows = [
        {
            "name": card.name,
            "title": card.title[:255],
            "description": card.description,
            "origin": card.origin,
            "entity_ref": card.entity_ref,
            "levels": json.dumps(list(card.levels)),
            "definition": json.dumps(dict(card.spec), default=str),
            "digest": card.digest,
            "updated_at": now,
        }
        for card in definitions.scorecards
    ]
    if rows:
        conn.execute(insert(scorecards), rows)


# -- results, gaps, bookkeeping -------------------------------------------------------------------------


def clear_all(conn: Connection) -> None:
    """Forget every result, summary, entity gap and dependency (before a full re-score)."""
    for table in (
        scorecard_results,
        scorecard_level_summary,
        scorecard_owner_summary,
        scoring_dependencies,
        scoring_subjects,
    ):
        conn.execute(delete(table))
    conn.execute(delete(ownership_gaps).where(ownership_gaps.c.entity_id.is_not(None)))


def clear_entities(conn: Connection, ids: Sequence[int], changes: SummaryChanges) -> None:
    """Forget what was written for these entities (before writing them anew, or when they vanished),
    and count out of the summaries what they added (their results may be gone already: see the doc)."""
    for part in chunks(ids):
        query = select(scoring_subjects.c.owner, scoring_subjects.c.tallies)
        for owner, tallies in conn.execute(query.where(scoring_subjects.c.entity_id.in_(part))):
            changes.take_off(owner, load_tallies(tallies))
        conn.execute(delete(scorecard_results).where(scorecard_results.c.entity_id.in_(part)))
        conn.execute(delete(ownership_gaps).where(ownership_gaps.c.entity_id.in_(part)))
        conn.execute(delete(scoring_dependencies).where(scoring_dependencies.c.entity_id.in_(part)))
        conn.execute(delete(scoring_subjects).where(scoring_subjects.c.entity_id.in_(part)))


def _gap_row(gap: Gap, *, entity_id: int | None, repository_id: int | None, subject: str) -> dict[str, Any]:
    return {
        "type": gap.type,
        "entity_id": entity_id,
        "repository_id": repository_id,
        "subject": subject[:1024],
        "entity_ref": gap.entity_ref,
        "kind": gap.kind,
        "owner": gap.owner,
        "tier": gap.tier,
        "detail": gap.detail,
    }


def write_outcomes(
    conn: Connection, outcomes: Iterable[EntityOutcome], now: datetime, changes: SummaryChanges
) -> tuple[int, int]:
    """Insert the results, gaps, dependencies and subject rows of freshly evaluated entities, and
    count their results into the summaries."""
    results: list[dict[str, Any]] = []
    gaps: list[dict[str, Any]] = []
    deps: list[dict[str, Any]] = []
    subjects: list[dict[str, Any]] = []
    for outcome in outcomes:
        tallies = [(result.scorecard, result.level, tenths(result.score)) for result in outcome.results]
        changes.add(outcome.owner, tallies)
        for result in outcome.results:
            results.append(
                {
                    "scorecard": result.scorecard,
                    "entity_id": outcome.entity_id,
                    "entity_ref": outcome.ref,
                    "kind": outcome.kind,
                    "level": result.level,
                    "level_rank": result.rank,
                    "score": result.score,
                    "checks": json.dumps(result.checks, separators=(",", ":"), ensure_ascii=False),
                    "owner": outcome.owner,
                    "evaluated_at": now,
                }
            )
        gaps += [
            _gap_row(gap, entity_id=outcome.entity_id, repository_id=None, subject=outcome.ref.lower())
            for gap in outcome.gaps
        ]
        deps += [
            {"entity_id": outcome.entity_id, "key": key[:600], "part": part}
            for key, part in _essential(outcome.key, outcome.dependencies)
        ]
        subjects.append(
            {
                "entity_id": outcome.entity_id,
                "ref_key": outcome.key,
                "kind": outcome.kind,
                "etag": outcome.etag,
                "live": outcome.live,
                "owner": outcome.owner,
                "tier": outcome.tier,
                "capabilities": json.dumps(outcome.capabilities),
                "runbooks_manual": outcome.runbooks_manual,
                "runbooks_automated": outcome.runbooks_automated,
                "valid_until": outcome.valid_until,
                "tallies": dump_tallies(tallies),
            }
        )
    for table, rows in (
        (scorecard_results, results),
        (ownership_gaps, gaps),
        (scoring_dependencies, deps),
        (scoring_subjects, subjects),
    ):
        if rows:
            conn.execute(insert(table), rows)
    return len(results), len(gaps)


def _essential(own: str, dependencies: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """The dependencies worth a row: a change of the entity itself re-scores it anyway, and a row
    ``(key, list)`` already fires when ``key`` itself changes, so ``(key, "")`` beside it is dropped."""
    with_lists = {key for key, part in dependencies if part}
    return sorted((key, part) for key, part in dependencies if part or (key != own and key not in with_lists))


def rescore_repositories(conn: Connection, ids: Sequence[int] | None, gap_of: Any) -> int:
    """Recompute ``repository_without_descriptor`` for these repositories (all when None)."""
    query = select(
        repositories.c.id,
        repositories.c.name,
        repositories.c.url,
        repositories.c.last_commit,
        repositories.c.has_descriptors,
        repositories.c.removed_at,
    )
    if ids is None:
        conn.execute(delete(ownership_gaps).where(ownership_gaps.c.repository_id.is_not(None)))
        conn.execute(delete(scoring_repositories))
        rows = list(conn.execute(query))
    else:
        rows = []
        for part in chunks(ids):
            conn.execute(delete(ownership_gaps).where(ownership_gaps.c.repository_id.in_(part)))
            conn.execute(delete(scoring_repositories).where(scoring_repositories.c.repository_id.in_(part)))
            rows += list(conn.execute(query.where(repositories.c.id.in_(part))))
    gaps = [
        _gap_row(gap_of(row.name, row.url), entity_id=None, repository_id=row.id, subject=row.name)
        for row in rows
        if row.has_descriptors is False and row.removed_at is None
    ]
    state = [
        {
            "repository_id": row.id,
            "last_commit": row.last_commit,
            "has_descriptors": row.has_descriptors,
            "removed": row.removed_at is not None,
        }
        for row in rows
    ]
    if gaps:
        conn.execute(insert(ownership_gaps), gaps)
    if state:
        conn.execute(insert(scoring_repositories), state)
    return len(gaps)
