"""The scoring events: a level that dropped, a gap that opened or closed, found by comparing what a
re-score is about to replace with what it writes.

A re-score clears an entity's results and gaps before it writes the new ones (``clear_all``,
``clear_entities``), so the store reads them first (``take_snapshot``) and keeps them for the length of
the re-score's transaction; ``events_of`` compares, without a database. An entity seen for the first
time has no level to drop, and its gaps count as opened only when the catalog was scored before: the
first re-score of a catalog is its starting point, not a flood of news.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from catalog_sync.store.outbox.types import Event
from catalog_sync.store.scoring.rows import chunks
from catalog_sync.store.scoring.types import EntityOutcome
from catalog_sync.store.tables import ownership_gaps, scorecard_results, scoring_subjects

Level = tuple[int, str]
"""An entity's level on one scorecard as last written: ``(rank, level name)``."""


@dataclass(frozen=True)
class OpenGap:
    """A gap an entity or a repository had, as last written."""

    type: str
    ref: str | None
    owner: str | None
    detail: str


@dataclass
class Snapshot:
    """What a re-score replaces: levels by (entity, scorecard), gaps (type -> detail) by entity, and
    whether the catalog had been scored at all before this re-score. Plain tuples and strings: a full
    re-score of 10,000 products keeps tens of thousands of them."""

    scored_before: bool = False
    levels: dict[tuple[int, str], Level] = field(default_factory=dict)
    gaps: dict[int, dict[str, str]] = field(default_factory=dict)
    owners: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Owners' documents read for the events so far, reused by the next chunk's."""


def was_scored(conn: Connection) -> bool:
    """Whether any entity was ever scored (the first re-score announces nothing)."""
    return conn.execute(select(scoring_subjects.c.entity_id).limit(1)).first() is not None


def take_snapshot(conn: Connection, snapshot: Snapshot, ids: Sequence[int] | None) -> None:
    """Add to ``snapshot`` the levels and gaps of these entities (all when None) before they go."""
    r, g = scorecard_results, ownership_gaps
    results = select(r.c.entity_id, r.c.scorecard, r.c.level_rank, r.c.level)
    gaps = select(g.c.entity_id, g.c.type, g.c.detail)
    if ids is None:
        queries = [(results, gaps.where(g.c.entity_id.is_not(None)))]
    else:
        queries = [
            (results.where(r.c.entity_id.in_(part)), gaps.where(g.c.entity_id.in_(part)))
            for part in chunks(ids)
        ]
    levels, open_gaps = snapshot.levels, snapshot.gaps
    for result_query, gap_query in queries:
        for entity_id, scorecard, rank, level in conn.execute(result_query):
            levels[(entity_id, scorecard)] = (rank, level)
        for entity_id, kind, detail in conn.execute(gap_query):
            open_gaps.setdefault(entity_id, {})[kind] = detail


def events_of(snapshot: Snapshot, outcomes: Iterable[EntityOutcome]) -> list[Event]:
    """The events of freshly evaluated entities against what they replaced."""
    events: list[Event] = []
    levels, open_gaps = snapshot.levels, snapshot.gaps
    for outcome in outcomes:
        owner = outcome.owner or None
        for result in outcome.results:
            before = levels.get((outcome.entity_id, result.scorecard))
            if before is not None and result.rank < before[0]:
                events.append(_dropped(outcome, owner, result.scorecard, before, result.level, result.rank))
        if not snapshot.scored_before:
            continue
        old = open_gaps.get(outcome.entity_id, {})
        if not old and not outcome.gaps:
            continue
        new = {gap.type: gap for gap in outcome.gaps}
        for kind in sorted(set(new) - set(old)):
            gap = new[kind]
            events.append(
                _gap("gap_opened", outcome.entity_id, outcome.ref, gap.owner or owner, kind, gap.detail)
            )
        for kind in sorted(set(old) - set(new)):
            events.append(_gap("gap_closed", outcome.entity_id, outcome.ref, owner, kind, old[kind]))
    return events


def _dropped(
    outcome: EntityOutcome, owner: str | None, scorecard: str, before: Level, level: str, rank: int
) -> Event:
    was = before[1] or "no level"
    now = level or "no level"
    return Event(
        type="level_dropped",
        subject=f"{scorecard}\x00{outcome.ref}\x00{rank}",
        entity_id=outcome.entity_id,
        entity_ref=outcome.ref,
        owner=owner,
        summary=f"{outcome.ref} dropped from {was} to {now} on scorecard {scorecard}",
        detail={
            "scorecard": scorecard,
            "previousLevel": before[1] or None,
            "level": level or None,
            "previousRank": before[0],
            "rank": rank,
        },
    )


def _gap(
    event: str, entity_id: int | None, ref: str | None, owner: str | None, kind: str, detail: str
) -> Event:
    verb = "opened" if event == "gap_opened" else "closed"
    subject = ref or ""
    return Event(
        type=event,
        subject=f"{kind}\x00{subject}",
        entity_id=entity_id,
        entity_ref=ref,
        owner=owner,
        summary=f"ownership gap {kind} {verb} on {subject}",
        detail={"gap": kind, "message": detail},
    )


def repository_gap_events(before: dict[int, OpenGap], after: dict[int, OpenGap]) -> list[Event]:
    """``repository_without_descriptor`` gaps opened and closed, by repository id."""
    events = []
    for rid in sorted(set(after) - set(before)):
        events.append(_repository_gap("gap_opened", rid, after[rid]))
    for rid in sorted(set(before) - set(after)):
        events.append(_repository_gap("gap_closed", rid, before[rid]))
    return events


def _repository_gap(event: str, rid: int, gap: OpenGap) -> Event:
    verb = "opened" if event == "gap_opened" else "closed"
    return Event(
        type=event,
        subject=f"{gap.type}\x00repository:{rid}",
        summary=f"ownership gap {gap.type} {verb} on repository {gap.ref or rid}",
        detail={"gap": gap.type, "repository": gap.ref, "message": gap.detail},
    )


def repository_gaps(conn: Connection, ids: Sequence[int] | None) -> dict[int, OpenGap]:
    """The repository gaps written now, by repository id (the subject is the repository's name)."""
    query = select(
        ownership_gaps.c.repository_id,
        ownership_gaps.c.type,
        ownership_gaps.c.subject,
        ownership_gaps.c.detail,
    )
    found: dict[int, OpenGap] = {}
    parts: Iterable[list[int] | None] = [None] if ids is None else chunks(ids)
    for part in parts:
        where = (
            ownership_gaps.c.repository_id.is_not(None)
            if part is None
            else ownership_gaps.c.repository_id.in_(part)
        )
        for row in conn.execute(query.where(where)):
            found[row.repository_id] = OpenGap(row.type, row.subject, None, row.detail)
    return found
