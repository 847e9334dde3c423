"""Insights of the IT product model, read from what scoring stored about every entity.

- **Capability overlap**: a capability served by products of more than one team may be served twice
  (possible duplication) or need the teams to agree on who leads it.
- **Coordination load**: a team whose products depend on other teams' products (outgoing), or whose
  products others depend on (incoming), spends time coordinating instead of delivering; the teams
  with the most cross-team dependencies are where team boundaries may be drawn badly.
- **Runbook automation**: manual against automated runbooks per team: how far operations have become
  productized services.

Each reads ``scoring_subjects`` (owner, capabilities and runbook counts per live entity, kept
current by every re-score) and, for dependencies, the ``dependsOn`` relations: a few thousand rows at
ten thousand products, aggregated in one pass. Only live entities with a team owner count.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from catalog_sync.scoring.resolve import SERVING_KINDS
from catalog_sync.store.tables import relations, scoring_subjects


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


def capability_overlap(conn: Connection, team: str | None = None) -> list[dict[str, Any]]:
    """Capabilities served by products of more than one team, most teams first.

    With ``team``, only the capabilities that team shares with others.
    """
    query = select(scoring_subjects.c.owner, scoring_subjects.c.capabilities).where(
        scoring_subjects.c.live.is_(True),
        scoring_subjects.c.owner != "",
        scoring_subjects.c.kind.in_(sorted(SERVING_KINDS)),
    )
    by_capability: dict[str, Counter[str]] = defaultdict(Counter)
    for owner, capabilities in conn.execute(query):
        for capability in json.loads(capabilities or "[]"):
            by_capability[capability][owner] += 1
    found: list[dict[str, Any]] = []
    for capability, teams in by_capability.items():
        if len(teams) < 2 or (team is not None and team not in teams):
            continue
        found.append(
            {
                "capability": capability,
                "products": sum(teams.values()),
                "teams": [
                    {"team": name, "products": count}
                    for name, count in sorted(teams.items(), key=lambda item: (-item[1], item[0]))
                ],
            }
        )
    found.sort(key=lambda item: (-len(item["teams"]), -int(item["products"]), str(item["capability"])))
    return found


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


def load_to_dict(load: TeamLoad) -> dict[str, Any]:
    """The wire form of a team's coordination load."""
    return {
        "team": load.team,
        "outgoing": load.outgoing,
        "incoming": load.incoming,
        "total": load.total,
        "teams": list(load.teams),
    }
