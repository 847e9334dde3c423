"""What the store knows of one team for its summary: what it owns and how that scores, its gaps, its
insights, and the team's own entity (body and ``hasMember`` rows) from which scoring reads its members.

Every part is read for that team alone, through indexes on the owner (``scoring_subjects``,
``scorecard_results``, ``ownership_gaps``, ``scoring_capabilities``) and on relation ends, and
aggregated in SQL: a summary costs the same few queries for a team of three products or of a
thousand, whatever the catalog's size. Lists are cut at ``TEAM_PAGE`` items (``truncated`` says so)
while every count stays complete. Owned entities are those whose resolved owner is the team.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from catalog_sync.errors import NotFoundError
from catalog_sync.store.scoring.gaps import gaps_page
from catalog_sync.store.scoring.insights import team_insights
from catalog_sync.store.scoring.loads import META_COLUMNS, load_edges, meta_of
from catalog_sync.store.scoring.types import NONE_LEVEL, TEAM_PAGE, TeamFacts
from catalog_sync.store.tables import entities, scorecard_results, scoring_subjects


def team_facts(conn: Connection, name: str, namespace: str = "default") -> TeamFacts:
    """The facts of the Team (or, failing that, the Group) ``namespace/name``; NotFoundError if none."""
    key, row = _team(conn, name, namespace)
    gaps, gap_summary = gaps_page(conn, gap_type=None, owner=key, after=None, limit=TEAM_PAGE)
    return TeamFacts(
        key=key,
        meta=meta_of(row),
        body=json.loads(row.body),
        member_rows=load_edges(conn, [key], "hasMember"),
        header=_header(key, row),
        owned=_owned(conn, key),
        scorecards=_scorecards(conn, key),
        gaps={"summary": gap_summary, "items": gaps.items, "truncated": gaps.after is not None},
        insights=team_insights(conn, key),
    )


def _team(conn: Connection, name: str, namespace: str) -> tuple[str, Any]:
    for kind in ("team", "group"):
        key = f"{kind}:{namespace}/{name}".lower()
        row = conn.execute(select(*META_COLUMNS, entities.c.body).where(entities.c.ref_key == key)).first()
        if row is not None:
            return key, row
    raise NotFoundError(f"no Team or Group named {name!r} in namespace {namespace!r}")


def _header(key: str, row: Any) -> dict[str, Any]:
    metadata = json.loads(row.body).get("metadata", {})
    return {
        "entityRef": key,
        "kind": key.partition(":")[0],
        "title": metadata.get("title") or metadata.get("name"),
        "orphan": bool(row.orphaned),
    }


def _owned(conn: Connection, key: str) -> dict[str, Any]:
    subjects = scoring_subjects
    mine = (subjects.c.owner == key, subjects.c.live.is_(True))
    by_kind = {
        kind: int(count)
        for kind, count in conn.execute(
            select(subjects.c.kind, func.count()).where(*mine).group_by(subjects.c.kind)
        )
    }
    listed = conn.execute(
        select(subjects.c.entity_id, subjects.c.kind, subjects.c.ref_key)
        .where(*mine)
        .order_by(subjects.c.ref_key)
        .limit(TEAM_PAGE)
    ).all()
    results = _results_of(conn, [row.entity_id for row in listed])
    total = sum(by_kind.values())
    return {
        "count": total,
        "byKind": by_kind,
        "entities": [
            {"entityRef": row.ref_key, "kind": row.kind, "scorecards": results.get(row.entity_id, [])}
            for row in listed
        ],
        "truncated": total > TEAM_PAGE,
    }


def _results_of(conn: Connection, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    if not ids:
        return {}
    table = scorecard_results
    query = select(table.c.entity_id, table.c.scorecard, table.c.level, table.c.score).where(
        table.c.entity_id.in_(ids)
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(query.order_by(table.c.entity_id, table.c.scorecard)):
        found.setdefault(row.entity_id, []).append(
            {"scorecard": row.scorecard, "level": row.level or None, "score": row.score}
        )
    return found


def _scorecards(conn: Connection, key: str) -> list[dict[str, Any]]:
    table = scorecard_results
    query = (
        select(table.c.scorecard, table.c.level, func.count(), func.sum(table.c.score))
        .where(table.c.owner == key)
        .group_by(table.c.scorecard, table.c.level)
    )
    levels: dict[str, dict[str, int]] = {}
    sums: dict[str, float] = {}
    for card, level, count, score in conn.execute(query):
        levels.setdefault(card, {})[level or NONE_LEVEL] = int(count)
        sums[card] = sums.get(card, 0.0) + float(score)
    return [
        {
            "scorecard": name,
            "entities": sum(counts.values()),
            "levels": counts,
            "averageScore": round(sums[name] / sum(counts.values()), 1),
        }
        for name, counts in sorted(levels.items())
    ]
