"""Insights of the IT product model, read from what scoring stored about every entity.

- **Capability overlap**: a capability served by products of more than one team may be served twice
  (possible duplication) or need the teams to agree on who leads it.
- **Coordination load**: a team whose products depend on other teams' products (outgoing), or whose
  products others depend on (incoming), spends time coordinating instead of delivering; the teams
  with the most cross-team dependencies are where team boundaries may be drawn badly.
- **Runbook automation**: manual against automated runbooks per team: how far operations have become
  productized services.

Each whole list (``/api/insights/{name}``) reads ``scoring_subjects`` (owner, runbook counts per live
entity, kept current by every re-score), ``scoring_capabilities`` (products per capability and team,
kept by every re-score beside them) and, for dependencies, the ``dependsOn`` relations, aggregated
in one pass. A team's summary needs only its own line of each, so
``team_insights`` asks for that team alone, through indexes (owner, ref key, capability): its cost
follows the team's size, not the catalog's. Only live entities with a team owner count.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from catalog_sync.store.tables import relations, scoring_capabilities, scoring_subjects


@dataclass(frozen=True)
class TeamLoad:
    """One team's cross-team dependencies."""

    team: str
    outgoing: int
    incoming: int
    teams: tuple[str, ...]

    @property
    def total(self) -> int:
        """Outgoing plus incoming."""
        return self.outgoing + self.incoming


def _overlap_item(capability: str, teams: Counter[str]) -> dict[str, Any]:
    return {
        "capability": capability,
        "products": sum(teams.values()),
        "teams": [
            {"team": name, "products": count}
            for name, count in sorted(teams.items(), key=lambda item: (-item[1], item[0]))
        ],
    }


def _overlap(rows: Any) -> list[dict[str, Any]]:
    by_capability: dict[str, Counter[str]] = defaultdict(Counter)
    for capability, owner, count in rows:
        by_capability[capability][owner] += int(count)
    found = [_overlap_item(cap, teams) for cap, teams in by_capability.items() if len(teams) >= 2]
    found.sort(key=lambda item: (-len(item["teams"]), -int(item["products"]), str(item["capability"])))
    return found


def capability_overlap(conn: Connection) -> list[dict[str, Any]]:
    """Capabilities served by products of more than one team, most teams first."""
    caps = scoring_capabilities
    return _overlap(conn.execute(select(caps.c.capability, caps.c.owner, caps.c.products)))


def shared_capabilities(conn: Connection, team: str) -> list[dict[str, Any]]:
    """The capabilities ``team`` shares with other teams, each with those teams, in the order of
    ``capability_overlap`` (an index read of the rows of that team's capabilities only)."""
    caps = scoring_capabilities
    own = select(caps.c.capability).where(caps.c.owner == team).scalar_subquery()
    query = select(caps.c.capability, caps.c.owner, caps.c.products).where(caps.c.capability.in_(own))
    teams: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for capability, owner, products in conn.execute(query):
        teams[capability].append((-int(products), owner))
    shared = [(capability, sorted(found)) for capability, found in teams.items() if len(found) >= 2]
    shared.sort(key=lambda item: (-len(item[1]), sum(count for count, _ in item[1]), item[0]))
    return [
        {"capability": capability, "teams": [owner for _, owner in found if owner != team]}
        for capability, found in shared
    ]


def coordination_load(conn: Connection) -> list[TeamLoad]:
    """Every team with cross-team dependencies, the most first."""
    owners = {
        row.ref_key: row.owner
        for row in conn.execute(
            select(scoring_subjects.c.ref_key, scoring_subjects.c.owner).where(
                scoring_subjects.c.live.is_(True), scoring_subjects.c.owner != ""
            )
        )
    }
    outgoing: Counter[str] = Counter()
    incoming: Counter[str] = Counter()
    partners: dict[str, set[str]] = defaultdict(set)
    query = select(relations.c.source_key, relations.c.target_key).where(relations.c.type == "dependsOn")
    for source, target in conn.execute(query):
        source_team, target_team = owners.get(source), owners.get(target)
        if source_team is None or target_team is None or source_team == target_team:
            continue
        outgoing[source_team] += 1
        incoming[target_team] += 1
        partners[source_team].add(target_team)
        partners[target_team].add(source_team)
    loads = [
        TeamLoad(team, outgoing[team], incoming[team], tuple(sorted(partners[team])))
        for team in set(outgoing) | set(incoming)
    ]
    loads.sort(key=lambda load: (-load.total, load.team))
    return loads


def team_load(conn: Connection, team: str) -> TeamLoad:
    """One team's cross-team dependencies: its products' ``dependsOn`` rows to other teams', and back."""
    ours = scoring_subjects.alias("ours")
    theirs = scoring_subjects.alias("theirs")

    def other_owners(ours_end: Any, theirs_end: Any) -> dict[str, int]:
        query = (
            select(theirs.c.owner, func.count())
            .select_from(
                ours.join(relations, ours_end == ours.c.ref_key).join(theirs, theirs_end == theirs.c.ref_key)
            )
            .where(
                relations.c.type == "dependsOn",
                ours.c.owner == team,
                ours.c.live.is_(True),
                theirs.c.live.is_(True),
                theirs.c.owner != "",
                theirs.c.owner != team,
            )
            .group_by(theirs.c.owner)
        )
        return {owner: int(count) for owner, count in conn.execute(query)}

    outgoing = other_owners(relations.c.source_key, relations.c.target_key)
    incoming = other_owners(relations.c.target_key, relations.c.source_key)
    partners = tuple(sorted({*outgoing, *incoming}))
    return TeamLoad(team, sum(outgoing.values()), sum(incoming.values()), partners)


def runbook_automation(conn: Connection) -> list[dict[str, Any]]:
    """Manual and automated runbooks per team, the most manual first."""
    query = select(
        scoring_subjects.c.owner, scoring_subjects.c.runbooks_manual, scoring_subjects.c.runbooks_automated
    ).where(scoring_subjects.c.live.is_(True), scoring_subjects.c.owner != "")
    manual: Counter[str] = Counter()
    automated: Counter[str] = Counter()
    for owner, by_hand, by_machine in conn.execute(query):
        manual[owner] += by_hand
        automated[owner] += by_machine
    rows: list[dict[str, Any]] = []
    for team in set(manual) | set(automated):
        total = manual[team] + automated[team]
        if not total:
            continue
        rows.append(
            {
                "team": team,
                "manual": manual[team],
                "automated": automated[team],
                "total": total,
                "automatedShare": round(automated[team] / total, 3),
            }
        )
    rows.sort(key=lambda row: (-int(row["manual"]), str(row["team"])))
    return rows


def team_runbooks(conn: Connection, team: str) -> tuple[int, int]:
    """One team's manual and automated runbooks."""
    query = select(
        func.coalesce(func.sum(scoring_subjects.c.runbooks_manual), 0),
        func.coalesce(func.sum(scoring_subjects.c.runbooks_automated), 0),
    ).where(scoring_subjects.c.owner == team, scoring_subjects.c.live.is_(True))
    manual, automated = conn.execute(query).one()
    return int(manual), int(automated)


def team_insights(conn: Connection, team: str) -> dict[str, Any]:
    """The insights of one team's summary: its runbooks, its dependencies, its shared capabilities."""
    manual, automated = team_runbooks(conn, team)
    load = team_load(conn, team)
    return {
        "runbooks": {"manual": manual, "automated": automated},
        "dependencies": {"outgoing": load.outgoing, "incoming": load.incoming, "teams": list(load.teams)},
        "sharedCapabilities": shared_capabilities(conn, team),
    }


def load_to_dict(load: TeamLoad) -> dict[str, Any]:
    """The wire form of a team's coordination load."""
    return {
        "team": load.team,
        "outgoing": load.outgoing,
        "incoming": load.incoming,
        "total": load.total,
        "teams": list(load.teams),
    }
