"""``/teams`` and ``/teams/{name}``: the teams of the product model.

``/teams`` is the directory: every Team and Group with its members, what it owns, its ownership
gaps, whether it is cross-functional, its average level on each scorecard, its manual runbooks, its
cross-team dependencies and its technical debt, sortable by any column on the server (links in the
headers), and narrowed to the teams that are not cross-functional with ``show=not-cross-functional``.

``/teams/{name}`` is one team: members by role, what it owns and the levels reached, its ownership
gaps, the insights that concern it, what to fix next and, beside it, its products' KPIs: the API's
team summary and ``GET /api/teams/{name}/next``, shown for people.
"""

from __future__ import annotations

from typing import Any

from catalog_sync.errors import QueryError
from catalog_sync.model import DEFAULT_NAMESPACE
from catalog_sync.scoring.gaps import GAP_TYPES
from catalog_sync.scoring.teams import team_document
from plugin_api.portal.blueprint import blp
from plugin_api.portal.common import render, text_arg
from plugin_api.portal.kpis import team_kpis
from plugin_api.portal.refs import prime_refs, title_of
from plugin_api.portal.sorting import sort_arg, sort_rows
from plugin_api.state import connection, state
from plugin_api.teams import team_next_document

VIEWS = ("all", "not-cross-functional")
BASE_COLUMNS = (
    "team",
    "members",
    "owned",
    "gaps",
    "cross-functional",
    "manual-runbooks",
    "dependencies",
    "tech-debt",
)
SCORECARD_PREFIX = "level-"
MAX_SCORECARD_COLUMNS = 200


@blp.route("/teams", methods=["GET"])
def teams() -> str:
    """The directory of teams."""
    show = text_arg("show") or "all"
    if show not in VIEWS:
        raise QueryError("show", f"{show[:60]!r} is not a view of the teams ({', '.join(VIEWS)})")
    rows = state().scoring.team_directory(connection())
    prime_refs([row["entityRef"] for row in rows])
    cards = sorted({name for row in rows for name in row["scorecards"]})
    sort = sort_arg([*BASE_COLUMNS, *(SCORECARD_PREFIX + name for name in cards)], "team")
    listed = [row for row in rows if show == "all" or not row["crossFunctional"]]
    return render(
        "teams.html",
        rows=sort_rows(listed, sort, _keys(cards), tie=lambda row: title_of(row["entityRef"]).lower()),
        scorecards=cards,
        card_titles=_card_titles(),
        prefix=SCORECARD_PREFIX,
        sort=sort,
        show=show,
        total=len(rows),
        not_cross_functional=sum(1 for row in rows if not row["crossFunctional"]),
    )


def _card_titles() -> dict[str, str]:
    page = state().scoring.list_scorecards(connection(), None, MAX_SCORECARD_COLUMNS)
    return {item["name"]: item["title"] or item["name"] for item in page.items}


def _keys(cards: list[str]) -> dict[str, Any]:
    keys: dict[str, Any] = {
        "team": lambda row: title_of(row["entityRef"]).lower(),
        "members": lambda row: row["members"],
        "owned": lambda row: row["owned"],
        "gaps": lambda row: row["gaps"],
        "cross-functional": lambda row: row["crossFunctional"],
        "manual-runbooks": lambda row: row["runbooks"]["manual"],
        "dependencies": lambda row: row["dependencies"]["total"],
        "tech-debt": lambda row: row["techDebt"]["total"],
    }
    for name in cards:
        keys[SCORECARD_PREFIX + name] = _level_key(name)
    return keys


def _level_key(name: str) -> Any:
    def key(row: dict[str, Any]) -> tuple[float, float]:
        found = row["scorecards"].get(name)
        return (found["averageRank"], found["averageScore"]) if found else (-1.0, -1.0)

    return key


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
    steps = team_next_document(header["entityRef"])
    insights = summary["insights"]
    prime_refs(
        [item["entityRef"] for item in summary["owned"]["entities"]]
        + [gap.get("entityRef") for gap in gaps["items"]]
        + list(insights["dependencies"]["teams"])
        + [shared["capability"] for shared in insights["sharedCapabilities"]]
        + [team for shared in insights["sharedCapabilities"] for team in shared["teams"]]
        + [product for step in steps["steps"] for product in step["products"]]
    )
    return render(
        "team.html",
        summary=summary,
        header=header,
        description=metadata.get("description") if isinstance(metadata.get("description"), str) else None,
        owner_param=header["entityRef"],
        roles=sorted(summary["members"]["byRole"].items()),
        owned=[_owned(item) for item in summary["owned"]["entities"]],
        gap_counts=[(kind, gaps["summary"].get(kind, 0)) for kind in GAP_TYPES if gaps["summary"].get(kind)],
        next=steps,
        kpis=team_kpis(header["entityRef"]),
        initiatives=state().scoring.list_initiatives(connection(), None, 20, [header["entityRef"].lower()]),
    )


def _owned(item: dict[str, Any]) -> dict[str, Any]:
    """An owned entity with its scorecards by name, for the table's columns."""
    return {**item, "by_scorecard": {result["scorecard"]: result for result in item["scorecards"]}}
