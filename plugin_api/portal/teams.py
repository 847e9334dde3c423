"""``/teams/{name}``: one team's page of the product model.

Its members by role, what it owns and the levels reached, its ownership gaps and the insights that
concern it (manual against automated runbooks, dependencies on other teams, capabilities shared
with other teams): the API's team summary (``GET /api/teams/{name}/summary``), shown for people.
"""

from __future__ import annotations

from typing import Any

from catalog_sync.errors import QueryError
from catalog_sync.model import DEFAULT_NAMESPACE
from catalog_sync.scoring.gaps import GAP_TYPES
from catalog_sync.scoring.teams import team_document
from plugin_api.portal.blueprint import blp
from plugin_api.portal.common import render, text_arg
from plugin_api.state import connection, state


@blp.route("/teams/<string:name>", methods=["GET"])
def team(name: str) -> str:
    """One team's page; ``namespace`` defaults to ``default``."""
    namespace = text_arg("namespace") or DEFAULT_NAMESPACE
    if "/" in namespace or ":" in namespace:
        raise QueryError("namespace", f"{namespace!r} is not a namespace")
    summary = team_document(state().scoring.team_summary(connection(), name, namespace))
    header = summary["team"]
    stored = state().catalog.get_by_ref(header["entityRef"], connection=connection())
    metadata = stored.body.get("metadata", {}) if stored is not None else {}
    gaps = summary["gaps"]
    return render(
        "team.html",
        summary=summary,
        header=header,
        description=metadata.get("description") if isinstance(metadata.get("description"), str) else None,
        owner_param=header["entityRef"],
        roles=sorted(summary["members"]["byRole"].items()),
        owned=[_owned(item) for item in summary["owned"]["entities"]],
        gap_counts=[(kind, gaps["summary"].get(kind, 0)) for kind in GAP_TYPES if gaps["summary"].get(kind)],
        initiatives=state().scoring.list_initiatives(connection(), None, 20, [header["entityRef"].lower()]),
    )


def _owned(item: dict[str, Any]) -> dict[str, Any]:
    """An owned entity with its scorecards by name, for the table's columns."""
    return {**item, "by_scorecard": {result["scorecard"]: result for result in item["scorecards"]}}
