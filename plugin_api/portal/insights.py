"""``/insights``: what the product model warns about, across the whole catalog, each list ranked.

The product model names the risks of product-aligned teams: resources replicated across teams
(capabilities served by products of several teams), coordination across teams (cross-team
dependencies, drawn as a graph a person can read), operations done by hand (manual runbooks), and
technical debt piling up under short-term goals (``spec.techDebt`` by team, product and severity,
the oldest first). Each section is the API's insight of the same name (``/api/insights/...``).
"""

from __future__ import annotations

from typing import Any

from catalog_sync.descriptors.kinds_ours import SEVERITIES
from catalog_sync.errors import QueryError
from plugin_api.insights import tech_debt_teams
from plugin_api.portal.blueprint import blp
from plugin_api.portal.common import render, text_arg
from plugin_api.portal.depgraph import dependency_graph
from plugin_api.portal.refs import prime_refs, title_of
from plugin_api.state import connection, state


@blp.route("/insights", methods=["GET"])
def insights() -> str:
    """Every insight, ranked."""
    severity = text_arg("severity")
    if severity is not None and severity not in SEVERITIES:
        raise QueryError("severity", f"{severity[:60]!r} is not a severity ({', '.join(SEVERITIES)})")
    reader, tx = state().scoring, connection()
    overlap = reader.insight(tx, "capability-overlap")
    load = reader.insight(tx, "coordination-load")
    runbooks = reader.insight(tx, "runbook-automation")
    edges = reader.insight(tx, "team-dependencies")
    debt = tech_debt_teams(severity)
    prime_refs(
        [item["capability"] for item in overlap]
        + [team["team"] for item in overlap for team in item["teams"]]
        + [item["team"] for item in load]
        + [item["team"] for item in runbooks]
        + [item["team"] for item in debt if item["team"]]
        + [entry["entityRef"] for item in debt for entry in item["items"]]
    )
    sections = [
        _section("duplicated", "Capabilities served by several teams", len(overlap), "capabilities"),
        _section("coordination", "Coordination load", len(load), "teams with cross-team dependencies"),
        _section(
            "runbooks", "Manual runbooks", sum(int(item["manual"]) for item in runbooks), "manual runbooks"
        ),
        _section("tech-debt", "Technical debt", sum(int(item["total"]) for item in debt), "items of debt"),
    ]
    return render(
        "insights.html",
        ranked=sorted(sections, key=lambda item: -int(item["count"])),
        overlap=overlap,
        load=load,
        runbooks=runbooks,
        edges=edges,
        graph=dependency_graph(edges, title_of),
        debt=debt,
        severity=severity or "",
        severities=SEVERITIES,
    )


def _section(anchor: str, title: str, count: int, unit: str) -> dict[str, Any]:
    return {"anchor": anchor, "title": title, "count": count, "unit": unit}
