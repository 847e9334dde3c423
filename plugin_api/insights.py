"""``/api/insights/...``: what the IT product model asks of the whole catalog.

- ``capability-overlap``: capabilities served by products of more than one team (possible duplication);
- ``coordination-load``: teams with the most dependencies on, and from, other teams' products;
- ``runbook-automation``: manual against automated runbooks per team;
- ``tech-debt``: the items of ``spec.techDebt`` by team, product and severity, the worst team first and
  each team's items oldest first (the product model's third risk: debt piling up under short-term goals).

Each is computed from the scorer's stored data at request time and paged with an opaque cursor.
"""

from __future__ import annotations

from typing import Any

from plugin_api.paging import decode_cursor, encode_cursor, page_document, page_size
from plugin_api.schemas.product_model import TechDebtArgsSchema, TechDebtListSchema
from plugin_api.schemas.scoring import (
    CapabilityOverlapListSchema,
    CoordinationLoadListSchema,
    RunbookAutomationListSchema,
    ScorecardListArgsSchema,
)
from plugin_api.smorest import Blueprint
from plugin_api.state import connection, state

blp = Blueprint(
    "insights",
    __name__,
    url_prefix="/api/insights",
    description="Insights: overlap, coordination, automation, technical debt",
)


def _page(name: str, args: dict[str, Any], items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    limit = page_size(args.get("limit"), state().settings.api)
    offset = 0
    if args.get("cursor"):
        offset = decode_cursor(f"insight-{name}", args["cursor"], {"offset": int})["offset"]
    if items is None:
        items = state().scoring.insight(connection(), name)
    end = offset + limit
    cursor = encode_cursor(f"insight-{name}", {"offset": end}) if end < len(items) and limit else None
    return page_document(items[offset:end], len(items), cursor)


@blp.route("/capability-overlap", methods=["GET"])
@blp.arguments(ScorecardListArgsSchema, location="query", as_kwargs=True)
@blp.response(200, CapabilityOverlapListSchema)
def capability_overlap(**args: Any) -> dict[str, Any]:
    """Capabilities served by products of more than one team, the most teams first."""
    return _page("capability-overlap", args)


@blp.route("/coordination-load", methods=["GET"])
@blp.arguments(ScorecardListArgsSchema, location="query", as_kwargs=True)
@blp.response(200, CoordinationLoadListSchema)
def coordination_load(**args: Any) -> dict[str, Any]:
    """Teams by their cross-team dependencies (outgoing plus incoming), the most first."""
    return _page("coordination-load", args)


@blp.route("/runbook-automation", methods=["GET"])
@blp.arguments(ScorecardListArgsSchema, location="query", as_kwargs=True)
@blp.response(200, RunbookAutomationListSchema)
def runbook_automation(**args: Any) -> dict[str, Any]:
    """Manual and automated runbooks per team, the most manual first."""
    return _page("runbook-automation", args)


@blp.route("/tech-debt", methods=["GET"])
@blp.arguments(TechDebtArgsSchema, location="query", as_kwargs=True)
@blp.response(200, TechDebtListSchema)
def tech_debt(**args: Any) -> dict[str, Any]:
    """Technical debt by team, product and severity: the team with the most severe debt first."""
    return _page("tech-debt", args, tech_debt_teams(args.get("severity")))


def tech_debt_teams(severity: str | None) -> list[dict[str, Any]]:
    """The tech-debt insight, narrowed to one severity when asked (teams left with none dropped)."""
    teams = state().scoring.insight(connection(), "tech-debt")
    if severity is None:
        return teams
    narrowed = []
    for team in teams:
        items = [item for item in team["items"] if item["severity"] == severity]
        if items:
            counts = {name: (len(items) if name == severity else 0) for name in team["bySeverity"]}
            products = len({item["entityRef"] for item in items})
            narrowed.append(
                {**team, "items": items, "total": len(items), "bySeverity": counts, "products": products}
            )
    return narrowed
