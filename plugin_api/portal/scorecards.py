"""``/scorecards`` and ``/scorecards/{name}``: how good the products are, and whether it is improving.

The list shows every scorecard with its entities per level and average score; one scorecard's page
adds its checks, its results (narrowed by level or a catalog filter, paged) and a sparkline of the
average score per day. All of it is what the scorer stored, read through the API's ``ScoringReads``.
The results sort on the server by entity, owner, level or score, and their pages follow that order.
"""

from __future__ import annotations

from typing import Any

from catalog_sync.errors import QueryError
from catalog_sync.scoring.definitions import check_warnings
from catalog_sync.store.scoring import NONE_LEVEL, RESULT_SORTS
from plugin_api.paging import decode_cursor, encode_cursor, request_filters
from plugin_api.portal.blueprint import blp
from plugin_api.portal.charts import sparkline
from plugin_api.portal.common import level_parts, limit_arg, make_pager, render, text_arg
from plugin_api.portal.entity import show_value
from plugin_api.portal.sorting import Sort, sort_arg
from plugin_api.state import connection, state

HISTORY_DAYS = 90
_LIST_CURSOR = "portal-scorecards"
_RESULTS_CURSOR = "portal-scorecard-results"


@blp.route("/scorecards", methods=["GET"])
def scorecards() -> str:
    """Every scorecard with its summary."""
    after = None
    cursor = text_arg("cursor")
    if cursor:
        after = decode_cursor(_LIST_CURSOR, cursor, {"after": str})["after"]
    page = state().scoring.list_scorecards(connection(), after, limit_arg())
    next_cursor = encode_cursor(_LIST_CURSOR, {"after": page.after}) if page.after is not None else None
    cards = [with_parts(item) for item in page.items]
    return render(
        "scorecards.html",
        scorecards=cards,
        pager=make_pager("portal.scorecards", shown=len(cards), total=page.total, next_cursor=next_cursor),
    )


@blp.route("/scorecards/<string:name>", methods=["GET"])
def scorecard(name: str) -> str:
    """One scorecard: definition, level distribution, trend and results."""
    reader, tx = state().scoring, connection()
    card = with_parts(reader.get_scorecard(tx, name))
    card["warnings"] = check_warnings(card["checks"], state().settings.sync.fact_paths)
    level = text_arg("level")
    raw_filter = text_arg("filter")
    sort = sort_arg(tuple(RESULT_SORTS), "entity")
    page = reader.results(
        tx,
        name,
        entity_filter=request_filters([raw_filter] if raw_filter else []),
        level=level,
        after=_results_after(name, sort),
        limit=limit_arg(),
        sort=sort.key,
        descending=sort.descending,
    )
    next_cursor = None
    if page.after is not None:
        after = page.after if isinstance(page.after, str) else list(page.after)
        next_cursor = encode_cursor(
            _RESULTS_CURSOR, {"after": after, "scorecard": name, "order": f"{sort.key},{sort.order}"}
        )
    history = reader.history(tx, name, HISTORY_DAYS, state().clock().date())
    results = [_result(item) for item in page.items]
    return render(
        "scorecard.html",
        card=card,
        results=results,
        level=level or "",
        sort=sort,
        level_choices=[NONE_LEVEL, *card["levels"]],
        filter=raw_filter or "",
        pager=make_pager(
            "portal.scorecard", shown=len(results), total=page.total, next_cursor=next_cursor, name=name
        ),
        history=history,
        history_days=HISTORY_DAYS,
        chart=sparkline([(point["day"], point["averageScore"]) for point in history]),
    )


def _results_after(name: str, sort: Sort) -> str | tuple[Any, str] | None:
    """Where this page of results starts: the cursor's position, checked against the list it is for."""
    cursor = text_arg("cursor")
    if not cursor:
        return None
    position = decode_cursor(_RESULTS_CURSOR, cursor, {"after": (str, list), "scorecard": str, "order": str})
    if position["scorecard"] != name:
        raise QueryError("cursor", "this cursor belongs to the results of another scorecard")
    if position["order"] != f"{sort.key},{sort.order}":
        raise QueryError("cursor", "this cursor belongs to the results in another order")
    after = position["after"]
    if sort.key == "entity" and isinstance(after, str):
        return after
    if (
        sort.key != "entity"
        and isinstance(after, list)
        and len(after) == 2
        and isinstance(after[0], str | int | float)
        and not isinstance(after[0], bool)
        and isinstance(after[1], str)
    ):
        return after[0], after[1]
    raise QueryError("cursor", "malformed cursor")


def with_parts(item: dict[str, Any]) -> dict[str, Any]:
    """A scorecard with its level distribution ready to draw."""
    return {**item, "parts": level_parts(item["summary"]["levels"], item["levels"])}


def _result(item: dict[str, Any]) -> dict[str, Any]:
    failed = [check for check in item["checks"] if not check["passed"]]
    return {
        **item,
        "passed": len(item["checks"]) - len(failed),
        "failed": [{**check, "shown": show_value(check.get("value"))} for check in failed],
    }
