"""A team's summary: what it owns and how that scores, its gaps, its members by role, its insights.

One document for the portal's team page and for ``GET /api/teams/{name}/summary``. The store reads
the team's facts for that team alone (``ScoringReads.team_summary``); the members and their roles are
judged here by the same rule the gaps use (``resolve.team_info``), so a summary and the
``team_missing_roles`` gap never disagree on who is in a team.
"""

from __future__ import annotations

from typing import Any

from catalog_sync.scoring.resolve import TeamInfo, team_info
from catalog_sync.scoring.view import CatalogView, Reads
from catalog_sync.store.scoring.types import TeamFacts


def team_document(facts: TeamFacts) -> dict[str, Any]:
    """The summary document of one team, from what the store read of it."""
    view = CatalogView()
    view.add_meta(facts.meta, facts.body)
    view.add_edges([(facts.key, "hasMember")], facts.member_rows)
    return {
        "team": facts.header,
        "members": _members(team_info(view, facts.key, Reads())),
        "owned": facts.owned,
        "scorecards": facts.scorecards,
        "gaps": facts.gaps,
        "insights": facts.insights,
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
