"""``/api/teams/{name}/summary``: one team's page of the product model.

What the team owns and the levels it reaches on each scorecard, its ownership gaps, its members by
role, and the insights that concern it (manual against automated runbooks, dependencies on other
teams, capabilities it shares with other teams). ``name`` is a Team's name, or a Group's when no
Team has it; ``namespace`` defaults to ``default``.
"""

from __future__ import annotations

from typing import Any

from catalog_sync.scoring.teams import team_document
from catalog_sync.store.kpis.documents import by_category, kpi_item
from plugin_api.schemas.scoring import TeamArgsSchema, TeamSummarySchema
from plugin_api.smorest import Blueprint
from plugin_api.state import connection, state

blp = Blueprint("teams", __name__, url_prefix="/api/teams", description="Team summaries")


@blp.route("/<string:name>/summary", methods=["GET"])
@blp.arguments(TeamArgsSchema, location="query", as_kwargs=True)
@blp.response(200, TeamSummarySchema)
def team_summary(name: str, namespace: str) -> dict[str, Any]:
    """Owned entities, their levels, gaps, members by role, insights, and KPIs per category."""
    document = team_document(state().scoring.team_summary(connection(), name, namespace))
    owner = document["team"]["entityRef"]
    states = state().kpis.states(connection(), owner=owner)
    document["kpis"] = {"byCategory": by_category(kpi_item(s) for s in states), "count": len(states)}
    return document
