"""``/api/teams/{name}/...``: one team's page of the product model.

- ``summary``: what the team owns and the levels it reaches on each scorecard, its ownership gaps,
  its members by role, and the insights that concern it (manual against automated runbooks,
  dependencies on other teams, capabilities it shares with other teams), and its products' KPIs per
  category;
- ``next``: what the team should fix next: its products' failing checks ranked by the level they
  unlock (``catalog_sync.scoring.next_steps``), each with how to pass it and the products affected.

``name`` is a Team's name, or a Group's when no Team has it; ``namespace`` defaults to ``default``.
"""

from __future__ import annotations

from typing import Any

from catalog_sync.errors import NotFoundError
from catalog_sync.scoring.next_steps import team_steps
from catalog_sync.scoring.teams import team_document
from catalog_sync.store.kpis.documents import by_category, kpi_item
from plugin_api.schemas.product_model import TeamNextArgsSchema, TeamNextSchema
from plugin_api.schemas.scoring import TeamArgsSchema, TeamSummarySchema
from plugin_api.smorest import Blueprint
from plugin_api.state import connection, state

blp = Blueprint("teams", __name__, url_prefix="/api/teams", description="Team summaries")

MAX_DEADLINES = 50
"""Initiatives listed as a team's deadlines at most (the soonest due)."""
MAX_RESULTS = 5000
"""Results of a team's entities ranked for ``next`` at most (a team owning more is cut, by ref)."""


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


@blp.route("/<string:name>/next", methods=["GET"])
@blp.arguments(TeamNextArgsSchema, location="query", as_kwargs=True)
@blp.response(200, TeamNextSchema)
def team_next(name: str, namespace: str) -> dict[str, Any]:
    """Failing checks of the team's products, the nearest level first, with how to pass each."""
    return team_next_document(team_key(name, namespace))


def team_key(name: str, namespace: str) -> str:
    """The stored key of the Team (or, failing that, the Group) ``namespace/name``."""
    for kind in ("team", "group"):
        key = f"{kind}:{namespace}/{name}".lower()
        if state().catalog.get_by_ref(key, connection=connection()) is not None:
            return key
    raise NotFoundError(f"no Team or Group named {name!r} in namespace {namespace!r}")


def team_next_document(key: str) -> dict[str, Any]:
    """What the team ``key`` should fix next, with the deadlines of the initiatives not done that it
    runs or has entities in (soonest first; ``notDone`` counts the team's own entities)."""
    results = state().scoring.owner_results(connection(), key, MAX_RESULTS)
    page = state().scoring.list_initiatives(connection(), None, MAX_DEADLINES, [key])
    deadlines = [_deadline(item, key) for item in page.items if item["status"] != "done"]
    return {"team": key, **team_steps(results, deadlines=deadlines)}


def _deadline(item: dict[str, Any], key: str) -> dict[str, Any]:
    """One initiative as a deadline of the team ``key``."""
    mine = next((team for team in item["teams"] if team["team"] == key), None)
    return {
        "name": item["name"],
        "title": item["title"],
        "dueOn": item["dueOn"],
        "status": item["status"],
        "atRisk": item["atRisk"],
        "scorecard": item["scorecard"],
        "goal": item["goal"],
        "runs": item["owner"] == key,
        "notDone": mine["notDone"] if mine else 0,
        "done": mine["done"] if mine else 0,
    }
