"""Initiatives kept: their progress, the entities each covers, and one burn-up point per day.

Written by the re-score that records the day (so every initiative moves with the results it counts),
read by the API and the portal. Like scorecard history, burn-up points older than ``RETENTION_DAYS``
are deleted, and an initiative no longer defined loses its points: the tables stay bounded by the
initiatives defined x 400 rows however old the catalog.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from catalog_sync.errors import NotFoundError
from catalog_sync.store.filters import EntityFilter
from catalog_sync.store.repo_queries import utc
from catalog_sync.store.scoring.history import RETENTION_DAYS
from catalog_sync.store.scoring.types import Page
from catalog_sync.store.sqlfilters import matching_ids
from catalog_sync.store.tables import (
    entities,
    initiative_entities,
    initiative_history,
    initiatives,
    scorecard_results,
)

CandidateRow = tuple[int, str, str, int, str]
"""One stored result an initiative may count: ``(entity id, ref, owner, level rank, checks JSON)``."""
BurnPoint = tuple[str, int, int]
"""One day of an initiative's burn-up: ``(day, in scope, done)``."""


def candidates(conn: Connection, scorecard: str, entity_filter: EntityFilter) -> list[CandidateRow]:
    """The results of ``scorecard`` whose entity ``entity_filter`` selects."""
    selected = matching_ids(conn, entity_filter)
    assert selected is not None
    query = select(
        scorecard_results.c.entity_id,
        scorecard_results.c.entity_ref,
        scorecard_results.c.owner,
        scorecard_results.c.level_rank,
        scorecard_results.c.checks,
    ).where(
        scorecard_results.c.scorecard == scorecard,
        scorecard_results.c.entity_id.in_(select(selected.subquery().c.entity_id)),
    )
    return [(row[0], row[1], row[2], row[3], row[4]) for row in conn.execute(query)]


def record_days(conn: Connection, points: Sequence[tuple[str, int, int]], now: datetime) -> None:
    """Replace today's burn-up point of each initiative ``(name, in scope, done)``; forget the points
    of initiatives no longer defined and those past retention."""
    day = now.date().isoformat()
    names = [name for name, _, _ in points]
    conn.execute(delete(initiative_history).where(initiative_history.c.day == day))
    conn.execute(delete(initiative_history).where(initiative_history.c.initiative.not_in(names)))
    if points:
        rows = [{"initiative": n, "day": day, "in_scope": s, "done": d} for n, s, d in points]
        conn.execute(insert(initiative_history), rows)
    oldest = (now.date() - timedelta(days=RETENTION_DAYS)).isoformat()
    conn.execute(delete(initiative_history).where(initiative_history.c.day < oldest))


def burn_points(conn: Connection, names: Iterable[str], first_day: date) -> dict[str, list[BurnPoint]]:
    """The burn-up points of these initiatives from ``first_day`` on, oldest first."""
    found: dict[str, list[BurnPoint]] = {}
    wanted = sorted(set(names))
    if not wanted:
        return found
    query = (
        select(initiative_history)
        .where(initiative_history.c.initiative.in_(wanted), initiative_history.c.day >= first_day.isoformat())
        .order_by(initiative_history.c.initiative, initiative_history.c.day)
    )
    for row in conn.execute(query):
        found.setdefault(row.initiative, []).append((row.day, row.in_scope, row.done))
    return found


def write_all(
    conn: Connection, rows: Sequence[dict[str, Any]], covered: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Replace every initiative row and the entities each covers."""
    conn.execute(delete(initiative_entities))
    conn.execute(delete(initiatives))
    if rows:
        conn.execute(insert(initiatives), [{**row, "updated_at": now} for row in rows])
    if covered:
        conn.execute(insert(initiative_entities), list(covered))


def item_of(row: Any) -> dict[str, Any]:
    """An initiative as the API shows it."""
    in_scope, done = int(row.in_scope), int(row.done)
    return {
        "name": row.name,
        "title": row.title,
        "entityRef": row.entity_ref,
        "owner": row.owner,
        "scorecard": row.scorecard,
        "goal": json.loads(row.goal),
        "appliesTo": json.loads(row.applies_to),
        "startsOn": row.starts_on,
        "dueOn": row.due_on,
        "status": row.status,
        "atRisk": bool(row.at_risk),
        "projected": row.projected,
        "inScope": in_scope,
        "done": done,
        "notDone": in_scope - done,
        "percent": round(100.0 * done / in_scope, 1) if in_scope else None,
        "teams": json.loads(row.teams),
        "updatedAt": utc(row.updated_at),
    }


def list_page(conn: Connection, after: str | None, limit: int, owners: Sequence[str] | None) -> Page:
    """Initiatives by due day then name; ``owners`` keeps those a team runs or has entities in."""
    query = select(initiatives)
    if owners is not None:
        wanted = list(owners)
        covering = select(initiative_entities.c.initiative).where(initiative_entities.c.owner.in_(wanted))
        query = query.where(initiatives.c.owner.in_(wanted) | initiatives.c.name.in_(covering))
    total = int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    key = initiatives.c.due_on + "/" + initiatives.c.name
    if after is not None:
        query = query.where(key > after)
    rows = list(conn.execute(query.order_by(key).limit(limit + 1)))
    more = len(rows) > limit
    items = [item_of(row) for row in rows[:limit]]
    last = rows[limit - 1] if more else None
    return Page(items, total, f"{last.due_on}/{last.name}" if last is not None else None)


def get_one(conn: Connection, name: str) -> dict[str, Any]:
    """One initiative; NotFoundError when none has that name."""
    row = conn.execute(select(initiatives).where(initiatives.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"no initiative named {name!r}")
    return item_of(row)


def history(conn: Connection, name: str, days: int, today: date) -> list[dict[str, Any]]:
    """The burn-up of one initiative over the last ``days`` days, oldest first."""
    get_one(conn, name)
    first = today - timedelta(days=days - 1)
    points = burn_points(conn, [name], first).get(name, [])
    return [
        {
            "day": day,
            "inScope": in_scope,
            "done": done,
            "notDone": in_scope - done,
            "percent": round(100.0 * done / in_scope, 1) if in_scope else None,
        }
        for day, in_scope, done in points
    ]


def covered_page(conn: Connection, name: str, done: bool | None, after: str | None, limit: int) -> Page:
    """The entities one initiative covers, not done first, by ref."""
    get_one(conn, name)
    table = initiative_entities
    query = select(table.c.entity_ref, table.c.owner, table.c.done).where(table.c.initiative == name)
    if done is not None:
        query = query.where(table.c.done == done)
    total = int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    if after is not None:
        query = query.where(table.c.entity_ref > after)
    rows = list(conn.execute(query.order_by(table.c.done, table.c.entity_ref).limit(limit + 1)))
    more = len(rows) > limit
    items = [
        {"entityRef": r.entity_ref, "owner": r.owner or None, "done": bool(r.done)} for r in rows[:limit]
    ]
    return Page(items, total, rows[limit - 1].entity_ref if more else None)


def of_entity(conn: Connection, ref_key: str) -> list[dict[str, Any]]:
    """The initiatives covering one entity, with whether it is done for each, by due day."""
    query = (
        select(initiatives, initiative_entities.c.done.label("entity_done"))
        .select_from(
            initiative_entities.join(entities, entities.c.id == initiative_entities.c.entity_id).join(
                initiatives, initiatives.c.name == initiative_entities.c.initiative
            )
        )
        .where(entities.c.ref_key == ref_key)
        .order_by(initiatives.c.due_on, initiatives.c.name)
    )
    return [{**item_of(row), "entityDone": bool(row.entity_done)} for row in conn.execute(query)]


def active_exemptions(conn: Connection) -> list[tuple[str, int]]:
    """Checks passed only by an exemption, per scorecard, as of the last re-score."""
    query = (
        select(scorecard_results.c.scorecard, func.sum(scorecard_results.c.exempted))
        .where(scorecard_results.c.exempted > 0)
        .group_by(scorecard_results.c.scorecard)
    )
    return [(str(name), int(count or 0)) for name, count in conn.execute(query)]
