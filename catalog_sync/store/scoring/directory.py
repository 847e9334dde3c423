"""Catalog-wide reads of the product model for the portal's ``/capabilities``, ``/teams`` and
``/insights`` pages and their API: the capability tree with the products serving each node, the
directory of teams, the technical debt by team, and what a team's products fail.

Each is a handful of aggregate queries over what the scorer keeps (``scoring_subjects``,
``scorecard_results``, ``ownership_gaps``, ``scoring_capabilities``) and the relation rows; bodies are
read only where the data lives nowhere else: the capabilities themselves (a few dozen) and the
products whose ``scoring_subjects`` row counts some debt. Refs come back as stored keys; titles are
the caller's to look up, so one lookup serves a whole page.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, func, or_, select

from catalog_sync.store.scoring.insights import capability_overlap, coordination_load
from catalog_sync.store.scoring.types import SERVING_KINDS
from catalog_sync.store.tables import (
    DEBT_SEVERITIES,
    entities,
    ownership_gaps,
    relations,
    scorecard_results,
    scorecards,
    scoring_subjects,
)

TEAM_KINDS = ("team", "group")
CROSS_FUNCTIONAL_GAPS = ("team_missing_roles", "team_without_members")
"""A team with one of these gaps is not cross-functional."""
_SEVERITY_WEIGHT = {"critical": 4, "high": 3, "medium": 2, "low": 1}


def capability_tree(conn: Connection) -> list[dict[str, Any]]:
    """Every capability (roots first, children under their parent, each level by key) with the live
    products and components serving it, their owners, and whether it is served twice or not at all."""
    rows = conn.execute(
        select(entities.c.ref_key, entities.c.body, entities.c.orphaned_at).where(
            entities.c.kind == "capability"
        )
    ).all()
    keys = {row.ref_key for row in rows}
    parents = {
        source: target
        for source, target in conn.execute(
            select(relations.c.source_key, relations.c.target_key).where(
                relations.c.type == "partOf", relations.c.source_key.like("capability:%")
            )
        )
        if target in keys and source != target
    }
    serving: dict[str, list[dict[str, str]]] = defaultdict(list)
    query = select(
        scoring_subjects.c.ref_key, scoring_subjects.c.owner, scoring_subjects.c.capabilities
    ).where(scoring_subjects.c.live.is_(True), scoring_subjects.c.kind.in_(sorted(SERVING_KINDS)))
    for ref_key, owner, capabilities in conn.execute(query):
        for capability in dict.fromkeys(json.loads(capabilities or "[]")):
            serving[str(capability).lower()].append({"entityRef": ref_key, "owner": owner or ""})
    duplicated = {str(item["capability"]).lower(): item for item in capability_overlap(conn)}
    nodes = {
        row.ref_key: _node(row, serving.get(row.ref_key, []), duplicated.get(row.ref_key)) for row in rows
    }
    children: dict[str | None, list[str]] = defaultdict(list)
    for key in sorted(nodes):
        children[_root_safe_parent(key, parents)].append(key)
    ordered: list[dict[str, Any]] = []

    def visit(key: str, depth: int, path: tuple[str, ...]) -> None:
        node = nodes[key]
        node["depth"] = depth
        node["parent"] = parents.get(key)
        ordered.append(node)
        for child in children.get(key, []):
            if child not in path:
                visit(child, depth + 1, (*path, child))

    for root in children.get(None, []):
        visit(root, 0, (root,))
    for node in ordered[::-1]:
        below = [nodes[child] for child in children.get(node["entityRef"], [])]
        node["servedBelow"] = any(child["products"] or child["servedBelow"] for child in below)
    return ordered


def _root_safe_parent(key: str, parents: dict[str, str]) -> str | None:
    """The parent to list ``key`` under; None (a root) when the chain above it loops."""
    seen = {key}
    at = parents.get(key)
    while at is not None:
        if at in seen:
            return None
        seen.add(at)
        at = parents.get(at)
    return parents.get(key)


def _node(row: Any, products: list[dict[str, str]], overlap: dict[str, Any] | None) -> dict[str, Any]:
    metadata = json.loads(row.body).get("metadata") or {}
    teams = sorted({item["owner"] for item in products if item["owner"]})
    return {
        "entityRef": row.ref_key,
        "title": metadata.get("title") if isinstance(metadata.get("title"), str) else None,
        "description": metadata.get("description") if isinstance(metadata.get("description"), str) else None,
        "orphan": row.orphaned_at is not None,
        "products": sorted(products, key=lambda item: item["entityRef"]),
        "teams": teams,
        "unserved": not products,
        "duplicated": overlap is not None,
        "servedBelow": False,
    }


def team_edges(conn: Connection) -> list[dict[str, Any]]:
    """Cross-team dependencies as edges: team ``from`` has ``dependencies`` ``dependsOn`` relations
    from its live products to team ``to``'s, the most first."""
    owners = {
        row.ref_key: row.owner
        for row in conn.execute(
            select(scoring_subjects.c.ref_key, scoring_subjects.c.owner).where(
                scoring_subjects.c.live.is_(True), scoring_subjects.c.owner != ""
            )
        )
    }
    counts: dict[tuple[str, str], int] = defaultdict(int)
    query = select(relations.c.source_key, relations.c.target_key).where(relations.c.type == "dependsOn")
    for source, target in conn.execute(query):
        source_team, target_team = owners.get(source), owners.get(target)
        if source_team and target_team and source_team != target_team:
            counts[(source_team, target_team)] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"from": source, "to": target, "dependencies": n} for (source, target), n in ranked]


def team_directory(conn: Connection) -> list[dict[str, Any]]:
    """Every Team and Group with what the product model asks of it, by ref."""
    teams = conn.execute(
        select(entities.c.ref_key, entities.c.kind, entities.c.orphaned_at)
        .where(entities.c.kind.in_(TEAM_KINDS))
        .order_by(entities.c.ref_key)
    ).all()
    keys = [row.ref_key for row in teams]
    if not keys:
        return []
    members = _counts(
        conn,
        select(relations.c.source_key, func.count())
        .where(relations.c.type == "hasMember", relations.c.source_key.in_(keys))
        .group_by(relations.c.source_key),
    )
    gaps = _counts(
        conn,
        select(ownership_gaps.c.owner, func.count())
        .where(ownership_gaps.c.owner.in_(keys))
        .group_by(ownership_gaps.c.owner),
    )
    not_cross_functional = {
        str(key)
        for (key,) in conn.execute(
            select(ownership_gaps.c.entity_ref).where(
                ownership_gaps.c.type.in_(CROSS_FUNCTIONAL_GAPS), ownership_gaps.c.entity_ref.is_not(None)
            )
        )
        if key
    }
    owned = _owned_totals(conn, keys)
    loads = {load.team: load for load in coordination_load(conn)}
    levels = _levels_by_owner(conn, keys)
    directory = []
    for row in teams:
        key = row.ref_key
        totals = owned.get(key, {})
        load = loads.get(key)
        directory.append(
            {
                "entityRef": key,
                "kind": row.kind,
                "orphan": row.orphaned_at is not None,
                "members": members.get(key, 0),
                "crossFunctional": key not in {ref.lower() for ref in not_cross_functional},
                "owned": int(totals.get("owned", 0)),
                "gaps": gaps.get(key, 0),
                "runbooks": {
                    "manual": int(totals.get("manual", 0)),
                    "automated": int(totals.get("automated", 0)),
                },
                "dependencies": {
                    "outgoing": load.outgoing if load else 0,
                    "incoming": load.incoming if load else 0,
                    "total": load.total if load else 0,
                    "teams": list(load.teams) if load else [],
                },
                "techDebt": {
                    "total": sum(int(totals.get(name, 0)) for name in DEBT_SEVERITIES),
                    "bySeverity": {name: int(totals.get(name, 0)) for name in DEBT_SEVERITIES},
                },
                "scorecards": levels.get(key, {}),
            }
        )
    return directory


def _counts(conn: Connection, query: Any) -> dict[str, int]:
    return {str(key): int(count) for key, count in conn.execute(query) if key}


def _owned_totals(conn: Connection, keys: list[str]) -> dict[str, dict[str, int]]:
    subjects = scoring_subjects
    query = (
        select(
            subjects.c.owner,
            func.count(),
            func.sum(subjects.c.runbooks_manual),
            func.sum(subjects.c.runbooks_automated),
            *(func.sum(subjects.c[f"debt_{name}"]) for name in DEBT_SEVERITIES),
        )
        .where(subjects.c.live.is_(True), subjects.c.owner.in_(keys))
        .group_by(subjects.c.owner)
    )
    found: dict[str, dict[str, int]] = {}
    for owner, count, manual, automated, *debts in conn.execute(query):
        found[owner] = {
            "owned": int(count),
            "manual": int(manual or 0),
            "automated": int(automated or 0),
            **{name: int(value or 0) for name, value in zip(DEBT_SEVERITIES, debts, strict=True)},
        }
    return found


def _levels_by_owner(conn: Connection, keys: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per team and scorecard: entities, average level rank, the level of that rank, average score."""
    names = {
        row.name: json.loads(row.levels)
        for row in conn.execute(select(scorecards.c.name, scorecards.c.levels))
    }
    table = scorecard_results
    query = (
        select(
            table.c.owner,
            table.c.scorecard,
            func.count(),
            func.sum(table.c.level_rank),
            func.sum(table.c.score),
        )
        .where(table.c.owner.in_(keys))
        .group_by(table.c.owner, table.c.scorecard)
    )
    found: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for owner, card, count, ranks, score in conn.execute(query):
        levels = names.get(card, [])
        average_rank = float(ranks or 0) / int(count)
        reached = int(average_rank)
        found[owner][card] = {
            "entities": int(count),
            "averageRank": round(average_rank, 2),
            "averageLevel": levels[reached - 1] if 0 < reached <= len(levels) else None,
            "averageScore": round(float(score or 0) / int(count), 1),
        }
    return found


def tech_debt(conn: Connection) -> list[dict[str, Any]]:
    """The ``spec.techDebt`` items of live entities by owning team (null: no team), the worst first;
    each team's items oldest first where ``since`` is known, then by severity."""
    subjects = scoring_subjects
    has_debt = or_(*(subjects.c[f"debt_{name}"] > 0 for name in DEBT_SEVERITIES))
    query = (
        select(subjects.c.ref_key, subjects.c.owner, entities.c.body)
        .select_from(subjects.join(entities, entities.c.id == subjects.c.entity_id))
        .where(subjects.c.live.is_(True), has_debt)
    )
    by_team: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ref_key, owner, body in conn.execute(query):
        spec = json.loads(body).get("spec") or {}
        for item in spec.get("techDebt") or []:
            if isinstance(item, dict) and item.get("severity") in _SEVERITY_WEIGHT:
                by_team[owner or ""].append(_debt_item(ref_key, item))
    rows = [_debt_team(team, items) for team, items in by_team.items()]
    rows.sort(
        key=lambda row: (
            *(-row["bySeverity"][name] for name in reversed(DEBT_SEVERITIES)),
            row["team"] or "~",
        )
    )
    return rows


def _debt_item(ref_key: str, item: dict[str, Any]) -> dict[str, Any]:
    since = item.get("since")
    return {
        "entityRef": ref_key,
        "title": str(item.get("title") or ""),
        "severity": str(item["severity"]),
        "url": item.get("url") if isinstance(item.get("url"), str) else None,
        "since": since if isinstance(since, str) and since else None,
    }


def _debt_team(team: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    items.sort(
        key=lambda item: (
            item["since"] is None,
            item["since"] or "",
            -_SEVERITY_WEIGHT[item["severity"]],
            item["entityRef"],
            item["title"],
        )
    )
    return {
        "team": team or None,
        "total": len(items),
        "bySeverity": {
            name: sum(1 for item in items if item["severity"] == name) for name in DEBT_SEVERITIES
        },
        "products": len({item["entityRef"] for item in items}),
        "items": items,
    }


def tech_debt_totals(conn: Connection) -> dict[str, int]:
    """Items of technical debt of live entities by severity (every severity, zero included)."""
    subjects = scoring_subjects
    query = select(
        *(func.coalesce(func.sum(subjects.c[f"debt_{name}"]), 0) for name in DEBT_SEVERITIES)
    ).where(subjects.c.live.is_(True))
    values = conn.execute(query).one()
    return {name: int(value) for name, value in zip(DEBT_SEVERITIES, values, strict=True)}


def owner_results(conn: Connection, owner: str, limit: int) -> list[dict[str, Any]]:
    """The scorecard results of what ``owner`` owns, with each scorecard's levels and each check's
    title, level, weight and description: what ``scoring.next_steps`` ranks."""
    rows = conn.execute(
        select(scorecard_results, scorecards.c.definition, scorecards.c.title, scorecards.c.levels)
        .join(scorecards, scorecards.c.name == scorecard_results.c.scorecard)
        .where(scorecard_results.c.owner == owner)
        .order_by(scorecard_results.c.entity_ref, scorecard_results.c.scorecard)
        .limit(limit)
    ).all()
    return [result_with_checks(row) for row in rows]


def result_with_checks(row: Any) -> dict[str, Any]:
    """One stored result joined with its scorecard's definition (title, levels, checks)."""
    definition = json.loads(row.definition)
    known = {str(check["id"]): check for check in definition.get("checks", [])}
    checks = []
    for stored in json.loads(row.checks):
        check = known.get(stored["id"], {})
        checks.append(
            {
                "id": stored["id"],
                "title": check.get("title", stored["id"]),
                "description": check.get("description") or "",
                "level": check.get("level"),
                "weight": float(check.get("weight", 1)),
                "passed": stored["passed"],
                "message": stored.get("message", ""),
                **({"exempted": stored["exempted"]} if stored.get("exempted") else {}),
            }
        )
    return {
        "entityRef": row.entity_ref,
        "scorecard": row.scorecard,
        "title": row.title,
        "levels": json.loads(row.levels),
        "level": row.level or None,
        "checks": checks,
    }
