"""``/api/scorecards`` and ``/api/entities/{kind}/{namespace}/{name}/scorecards``: results and trends.

Everything here reads what the scorer stored after the last sync pass (``catalog_sync.scoring``), so a
request never evaluates a rule. Lists are keyset pages of ``{items, totalItems, pageInfo}``: the
cursor carries the position and the filters of the first page.
"""

from __future__ import annotations

from typing import Any

from catalog_sync.errors import QueryError
from catalog_sync.model import EntityRef
from catalog_sync.scoring.definitions import check_warnings
from plugin_api.paging import decode_cursor, encode_cursor, page_document, page_size, request_filters
from plugin_api.schemas.scoring import (
    EntityScorecardListSchema,
    HistoryArgsSchema,
    HistorySchema,
    ResultArgsSchema,
    ScorecardListArgsSchema,
    ScorecardListSchema,
    ScorecardResultListSchema,
    ScorecardSchema,
)
from plugin_api.smorest import Blueprint
from plugin_api.state import connection, state

blp = Blueprint(
    "scorecards",
    __name__,
    url_prefix="/api",
    description="Scorecards: definitions with their summary, results per entity, daily history",
)

_LIST_CURSOR = "scorecards"
_RESULTS_CURSOR = "scorecard-results"


@blp.route("/scorecards", methods=["GET"])
@blp.arguments(ScorecardListArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ScorecardListSchema)
def list_scorecards(**args: Any) -> dict[str, Any]:
    """Every scorecard evaluated, by name, with entities per level and the average score."""
    limit = page_size(args.get("limit"), state().settings.api)
    after = None
    if args.get("cursor"):
        after = decode_cursor(_LIST_CURSOR, args["cursor"], {"after": str})["after"]
    page = state().scoring.list_scorecards(connection(), after, limit)
    cursor = encode_cursor(_LIST_CURSOR, {"after": page.after}) if page.after is not None else None
    return page_document([with_warnings(card) for card in page.items], page.total, cursor)


@blp.route("/scorecards/<string:name>", methods=["GET"])
@blp.response(200, ScorecardSchema)
def get_scorecard(name: str) -> dict[str, Any]:
    """One scorecard with its summary."""
    return with_warnings(state().scoring.get_scorecard(connection(), name))


def with_warnings(card: dict[str, Any]) -> dict[str, Any]:
    """The scorecard with ``warnings``: its checks that cannot work as written with this catalog's
    settings (a ``repoFile`` path that ``sync.fact_paths`` never records fails on every repository)."""
    return {**card, "warnings": check_warnings(card.get("checks") or [], state().settings.sync.fact_paths)}


@blp.route("/scorecards/<string:name>/results", methods=["GET"])
@blp.arguments(ResultArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ScorecardResultListSchema)
def list_results(name: str, **args: Any) -> dict[str, Any]:
    """One item per entity the scorecard applies to, by entity ref: level, score and every check."""
    limit = page_size(args.get("limit"), state().settings.api)
    filters: list[str] = list(args.get("filter") or [])
    level: str | None = args.get("level")
    after = None
    if args.get("cursor"):
        position = decode_cursor(
            _RESULTS_CURSOR,
            args["cursor"],
            {"after": str, "filter": list, "level": (str, type(None)), "scorecard": str},
        )
        if position["scorecard"] != name:
            raise QueryError("cursor", "this cursor belongs to the results of another scorecard")
        if not all(isinstance(item, str) for item in position["filter"]):
            raise QueryError("cursor", "malformed cursor")
        after, filters, level = position["after"], position["filter"], position["level"]
    page = state().scoring.results(
        connection(), name, entity_filter=request_filters(filters), level=level, after=after, limit=limit
    )
    cursor = None
    if page.after is not None:
        state_ = {"after": page.after, "filter": filters, "level": level, "scorecard": name}
        cursor = encode_cursor(_RESULTS_CURSOR, state_)
    return page_document(page.items, page.total, cursor)


@blp.route("/scorecards/<string:name>/history", methods=["GET"])
@blp.arguments(HistoryArgsSchema, location="query", as_kwargs=True)
@blp.response(200, HistorySchema)
def get_history(name: str, days: int, **_: Any) -> dict[str, Any]:
    """One point per day for the last ``days`` days (oldest first): entities per level, average score.

    Days without a re-score have no point. The list is bounded by ``days`` (at most 400, the
    retention), so it is answered whole, without a next page.
    """
    points = state().scoring.history(connection(), name, days, state().clock().date())
    return page_document(points, len(points), None)


@blp.route("/entities/<string:kind>/<string:namespace>/<string:name>/scorecards", methods=["GET"])
@blp.response(200, EntityScorecardListSchema)
def entity_scorecards(kind: str, namespace: str, name: str) -> dict[str, Any]:
    """Every scorecard result of one entity (one item per scorecard that applies to it)."""
    key = EntityRef(kind.lower(), namespace, name).key
    items = state().scoring.entity_scorecards(connection(), key)
    return page_document(items, len(items), None)
