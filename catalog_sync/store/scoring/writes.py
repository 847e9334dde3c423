"""Writing what a re-score produced: results, gaps, dependencies, subjects, scorecards, state.

Every function runs inside the re-score's one transaction (``ScoringStore.rescoring``), so a re-score
that fails leaves the tables as they were. ``clear_entities`` hands back what the cleared entities
had added to the summaries (kept in ``scoring_subjects.tallies``, which outlives a deleted entity while
the database deletes its results with it), so the scorer can count them out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from catalog_sync.store.scoring.rows import chunks
from catalog_sync.store.scoring.types import (
    EntityOutcome,
    Gap,
    PublishedScorecard,
    ScoredBefore,
    Tally,
    served_capabilities,
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


def dump_tallies(tallies: Sequence[Tally]) -> str:
    """The ``scoring_subjects.tallies`` text of one entity."""
    return json.dumps([list(tally) for tally in tallies], separators=(",", ":"), ensure_ascii=False)


def load_tallies(text: str | None) -> list[Tally]:
    """The tallies ``dump_tallies`` wrote."""
    return [(str(card), str(level), int(score)) for card, level, score in json.loads(text or "[]")]


def read_state(conn: Connection, key: str) -> str | None:
    """One value of ``scoring_state``."""
    found: str | None = conn.execute(select(scoring_state.c.value).where(scoring_state.c.key == key)).scalar()
    return found


def write_state(conn: Connection, values: dict[str, str]) -> None:
    """Replace values of ``scoring_state``."""
    conn.execute(delete(scoring_state).where(scoring_state.c.key.in_(list(values))))
    conn.execute(insert(scoring_state), [{"key": k, "value": v} for k, v in values.items()])


def write_definitions(conn: Connection, cards: Sequence[PublishedScorecard], now: datetime) -> None:
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
        for card in cards
    ]
    if rows:
        conn.execute(insert(scorecards), rows)


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


def clear_entities(conn: Connection, ids: Sequence[int]) -> list[ScoredBefore]:
    """Forget what was written for these entities; answer what each one scored had added to the kept
    totals (summaries, products per capability), for the scorer to count out."""
    added: list[ScoredBefore] = []
    subjects = scoring_subjects
    for part in chunks(ids):
        query = select(
            subjects.c.owner, subjects.c.tallies, subjects.c.live, subjects.c.kind, subjects.c.capabilities
        ).where(subjects.c.entity_id.in_(part))
        for row in conn.execute(query):
            capabilities = json.loads(row.capabilities or "[]")
            served = served_capabilities(bool(row.live), row.owner, row.kind, capabilities)
            added.append(ScoredBefore(row.owner, load_tallies(row.tallies), served))
        for table in (scorecard_results, ownership_gaps, scoring_dependencies, scoring_subjects):
            conn.execute(delete(table).where(table.c.entity_id.in_(part)))
    return added


def gap_row(gap: Gap, *, entity_id: int | None, repository_id: int | None, subject: str) -> dict[str, Any]:
    """The ``ownership_gaps`` row of one gap."""
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


def _result_rows(outcome: EntityOutcome, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "scorecard": result.scorecard,
            "entity_id": outcome.entity_id,
            "entity_ref": outcome.ref,
            "kind": outcome.kind,
            "level": result.level,
            "level_rank": result.rank,
            "score": result.score,
            "checks": json.dumps(result.checks, separators=(",", ":"), ensure_ascii=False),
            "exempted": result.exempted,
            "owner": outcome.owner,
            "evaluated_at": now,
        }
        for result in outcome.results
    ]


def _subject_row(outcome: EntityOutcome) -> dict[str, Any]:
    return {
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
        "tallies": dump_tallies(outcome.tallies()),
    }


def write_outcomes(conn: Connection, outcomes: Iterable[EntityOutcome], now: datetime) -> tuple[int, int]:
    """Insert the results, gaps, dependencies and subject rows of freshly evaluated entities; answer
    how many results and gaps were written."""
    results: list[dict[str, Any]] = []
    gaps: list[dict[str, Any]] = []
    deps: list[dict[str, Any]] = []
    subjects: list[dict[str, Any]] = []
    for outcome in outcomes:
        results += _result_rows(outcome, now)
        gaps += [
            gap_row(gap, entity_id=outcome.entity_id, repository_id=None, subject=outcome.ref.lower())
            for gap in outcome.gaps
        ]
        deps += [
            {"entity_id": outcome.entity_id, "key": key[:600], "part": part}
            for key, part in _essential(outcome.key, outcome.dependencies)
        ]
        subjects.append(_subject_row(outcome))
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


def rescore_repositories(
    conn: Connection, ids: Sequence[int] | None, gap_of: Callable[[str, str], Gap]
) -> int:
    """Recompute ``repository_without_descriptor`` for these repositories (all when None);
    ``gap_of(name, url)`` is scoring's judgement of one repository without descriptors."""
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
        gap_row(gap_of(row.name, row.url), entity_id=None, repository_id=row.id, subject=row.name)
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
