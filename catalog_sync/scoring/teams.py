"""A team's summary: what it owns and how that scores, its gaps, its members by role, its insights.

One document for the portal's team page and for ``GET /api/teams/{name}/summary``. Owned entities
are those whose resolved owner is the team (see ``resolve``); lists are cut at ``TEAM_PAGE`` items
(``truncated`` says so) while every count stays complete.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from catalog_sync.errors import NotFoundError
from catalog_sync.scoring.gapqueries import NONE_LEVEL, TEAM_PAGE, gaps_page
from catalog_sync.scoring.insights import TeamLoad, capability_overlap, coordination_load, runbook_automation
from catalog_sync.scoring.loader import fill
from catalog_sync.scoring.resolve import TeamInfo, team_info
from catalog_sync.scoring.view import CatalogView, Need, Reads
from catalog_sync.store.tables import entities, scorecard_results, scoring_subjects


def team_summary(conn: Connection, name: str, namespace: str = "default") -> dict[str, Any]:
    """The summary of the Team (or, failing that, the Group) ``namespace/name``."""
    key, row = _team(conn, name, namespace)
    view = CatalogView()
    fill(conn, view, Need(metas={key}, bodies={key}, edges={(key, "hasMember")}))
    info = team_info(view, key, Reads())
    owned = conn.execute(
        select(scoring_subjects.c.entity_id, scoring_subjects.c.kind, scoring_subjects.c.ref_key)
        .where(scoring_subjects.c.owner == key, scoring_subjects.c.live.is_(True))
        .order_by(scoring_subjects.c.ref_key)
    ).all()
    results = conn.execute(
        select(
            scorecard_results.c.entity_id,
            scorecard_results.c.scorecard,
            scorecard_results.c.level,
            scorecard_results.c.score,
        ).where(scorecard_results.c.owner == key)
    ).all()
    gaps, gap_summary = gaps_page(conn, gap_type=None, owner=key, after=None, limit=TEAM_PAGE)
    shared = capability_overlap(conn, team=key)
    loads = {load.team: load for load in coordination_load(conn)}
    runbooks = {r["team"]: r for r in runbook_automation(conn)}
    document = {
        "team": _team_header(key, row),
        "members": _members(info),
        "owned": _owned(owned, results),
        "scorecards": _scorecards(results),
        "gaps": {"summary": gap_summary, "items": gaps.items, "truncated": gaps.after is not None},
        "insights": _insights(key, shared, loads.get(key), runbooks.get(key)),
    }
    return document


def _team(conn: Connection, name: str, namespace: str) -> tuple[str, Any]:
    for kind in ("team", "group"):
        key = f"{kind}:{namespace}/{name}".lower()
        query = select(entities.c.ref_key, entities.c.body, entities.c.orphaned_at).where(
            entities.c.ref_key == key
        )
        row = conn.execute(query).first()
        if row is not None:
            return key, row
    raise NotFoundError(f"no Team or Group named {name!r} in namespace {namespace!r}")


def _team_header(key: str, row: Any) -> dict[str, Any]:
    metadata = json.loads(row.body).get("metadata", {})
    return {
        "entityRef": key,
        "kind": key.partition(":")[0],
        "title": metadata.get("title") or metadata.get("name"),
        "orphan": row.orphaned_at is not None,
    }


def _members(info: TeamInfo | None) -> dict[str, Any]:
    by_role: dict[str, list[str]] = {}
    without_role: list[str] = []
    for member in sorted(info.members if info else []):
        person = member.partition("/")[2]
        roles = info.roles_by_member.get(member, ()) if info else ()
        for role in roles:
            by_role.setdefault(role, []).append(person)
        if not roles:
            without_role.append(person)
    return {"count": len(info.members) if info else 0, "byRole": by_role, "withoutRole": without_role}


def _owned(owned: Sequence[Any], results: Sequence[Any]) -> dict[str, Any]:
    by_entity: dict[int, list[dict[str, Any]]] = {}
    for result in results:
        by_entity.setdefault(result.entity_id, []).append(
            {"scorecard": result.scorecard, "level": result.level or None, "score": result.score}
        )
    return {
        "count": len(owned),
        "byKind": dict(Counter(entity.kind for entity in owned)),
        "entities": [
            {
                "entityRef": entity.ref_key,
                "kind": entity.kind,
                "scorecards": by_entity.get(entity.entity_id, []),
            }
            for entity in owned[:TEAM_PAGE]
        ],
        "truncated": len(owned) > TEAM_PAGE,
    }


def _scorecards(results: Sequence[Any]) -> list[dict[str, Any]]:
    counts: dict[str, Counter[str]] = {}
    sums: Counter[str] = Counter()
    for result in results:
        counts.setdefault(result.scorecard, Counter())[result.level or NONE_LEVEL] += 1
        sums[result.scorecard] += result.score
    return [
        {
            "scorecard": name,
            "entities": sum(levels.values()),
            "levels": dict(levels),
            "averageScore": round(sums[name] / sum(levels.values()), 1),
        }
        for name, levels in sorted(counts.items())
    ]


def _insights(
    key: str, shared: list[dict[str, Any]], load: TeamLoad | None, runbooks: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "runbooks": {
            "manual": runbooks["manual"] if runbooks else 0,
            "automated": runbooks["automated"] if runbooks else 0,
        },
        "dependencies": {
            "outgoing": load.outgoing if load else 0,
            "incoming": load.incoming if load else 0,
            "teams": list(load.teams) if load else [],
        },
        "sharedCapabilities": [
            {
                "capability": item["capability"],
                "teams": [t["team"] for t in item["teams"] if t["team"] != key],
            }
            for item in shared
        ],
    }
