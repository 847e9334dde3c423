"""The scoring events: a level that dropped, a gap that opened or closed, found by comparing what a
re-score is about to replace with what it writes.

A re-score clears an entity's results and gaps before it writes the new ones (``clear_all``,
``clear_entities``), so the store reads them first (``snapshot``) and keeps them for the length of the
re-score's transaction; ``events_of`` compares, without a database. An entity seen for the first time
has no level to drop, and its gaps count as opened only when the catalog was scored before: the first
re-score of a catalog is its starting point, not a flood of news.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from catalog_sync.store.outbox.types import Event
from catalog_sync.store.scoring.rows import chunks
from catalog_sync.store.scoring.types import EntityOutcome
from catalog_sync.store.tables import ownership_gaps, scorecard_results, scoring_subjects


@dataclass(frozen=True)
class Level:
    """An entity's level on one scorecard, as last written."""

    rank: int
    level: str
    ref: str
    owner: str | None


@dataclass(frozen=True)
class OpenGap:
    """A gap an entity or a repository had, as last written."""

    type: str
    ref: str | None
    owner: str | None
    detail: str


@dataclass
class Snapshot:
    """What a re-score replaces: levels by (entity, scorecard), gaps by entity, and whether the catalog
    had been scored at all before this re-score."""

    scored_before: bool = False
    levels: dict[tuple[int, str], Level] = field(default_factory=dict)
    gaps: dict[int, dict[str, OpenGap]] = field(default_factory=dict)
    subjects: set[int] = field(default_factory=set)


def was_scored(conn: Connection) -> bool:
    """Whether any entity was ever scored (the first re-score announces nothing)."""
    return conn.execute(select(scoring_subjects.c.entity_id).limit(1)).first() is not None


def take_snapshot(conn: Connection, snapshot: Snapshot, ids: Sequence[int] | None) -> None:
    """Add to ``snapshot`` the levels and gaps of these entities (all when None) before they go."""
    r, g, s = scorecard_results, ownership_gaps, scoring_subjects
    results = select(r.c.entity_id, r.c.scorecard, r.c.level, r.c.level_rank, r.c.entity_ref, r.c.owner)
    gaps = select(g.c.entity_id, g.c.type, g.c.entity_ref, g.c.owner, g.c.detail)
    subjects = select(s.c.entity_id)
    if ids is None:
        queries = [(results, gaps.where(g.c.entity_id.is_not(None)), subjects)]
    else:
        queries = [
            (
                results.where(r.c.entity_id.in_(part)),
                gaps.where(g.c.entity_id.in_(part)),
                subjects.where(s.c.entity_id.in_(part)),
            )
            for part in chunks(ids)
        ]
    for result_query, gap_query, subject_query in queries:
        for row in conn.execute(result_query):
            snapshot.levels[(row.entity_id, row.scorecard)] = Level(
                row.level_rank, row.level, row.entity_ref, row.owner or None
            )
        for gap in conn.execute(gap_query):
            snapshot.gaps.setdefault(gap.entity_id, {})[gap.type] = OpenGap(
                gap.type, gap.entity_ref, gap.owner, gap.detail
            )
        snapshot.subjects.update(conn.execute(subject_query).scalars())


def events_of(snapshot: Snapshot, outcomes: Iterable[EntityOutcome]) -> list[Event]:
    """The events of freshly evaluated entities against what they replaced."""
    events: list[Event] = []
    for outcome in outcomes:
        owner = outcome.owner or None
        for result in outcome.results:
            before = snapshot.levels.get((outcome.entity_id, result.scorecard))
            if before is not None and result.rank < before.rank:
                events.append(_dropped(outcome, owner, result.scorecard, before, result.level, result.rank))
        known = outcome.entity_id in snapshot.subjects
        if not known and not snapshot.scored_before:
            continue
        old = snapshot.gaps.get(outcome.entity_id, {})
        new = {gap.type: gap for gap in outcome.gaps}
        for kind in sorted(set(new) - set(old)):
            gap = new[kind]
            events.append(
                _gap("gap_opened", outcome.entity_id, outcome.ref, gap.owner or owner, kind, gap.detail)
            )
        for kind in sorted(set(old) - set(new)):
            events.append(_gap("gap_closed", outcome.entity_id, outcome.ref, owner, kind, old[kind].detail))
    return events


def _dropped(
    outcome: EntityOutcome, owner: str | None, scorecard: str, before: Level, level: str, rank: int
) -> Event:
    was = before.level or "no level"
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
            "previousLevel": before.level or None,
            "level": level or None,
            "previousRank": before.rank,
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
