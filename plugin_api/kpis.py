"""``/api/kpis``: every product's KPIs judged against their targets, their history, pushed values.

The list is read whole and judged in memory (10,000 KPIs in well under a second), because the status
depends on the descriptor as it is now and on the stored value together; then it is filtered, ordered
missed first, and cut in keyset pages whose cursor carries the filters.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from catalog_sync.descriptors.kpis import measure_kind
from catalog_sync.errors import ConflictError, NotFoundError, QueryError
from catalog_sync.model import EntityRef
from catalog_sync.store.filters import parse_filters
from catalog_sync.store.kpis import HISTORY_DAYS
from catalog_sync.store.kpis.documents import by_capability, by_category, items_of, kpi_item, sort_key
from catalog_sync.store.scoring.gaps import owner_keys
from plugin_api.auth import writes
from plugin_api.paging import decode_cursor, encode_cursor, page_document, page_size, request_filters
from plugin_api.schemas.kpis import (
    KpiHistoryArgsSchema,
    KpiHistorySchema,
    KpiListArgsSchema,
    KpiListSchema,
    KpiValueAnswerSchema,
    KpiValueSchema,
)
from plugin_api.smorest import Blueprint
from plugin_api.state import connection, state

blp = Blueprint(
    "kpis",
    __name__,
    url_prefix="/api/kpis",
    description="KPIs measured against their targets (SPEC section 9)",
)

_CURSOR = "kpis"
_CURSOR_STATE: dict[str, type | tuple[type, ...]] = {
    "after": list,
    "filter": list,
    "category": (str, type(None)),
    "status": (str, type(None)),
    "owner": (str, type(None)),
}
FUTURE_SLACK = timedelta(minutes=5)
"""How far ahead of the server's clock a pushed ``at`` may be (clocks differ a little)."""


def _position(after: Any) -> tuple[int, str, str]:
    if not (isinstance(after, list) and len(after) == 3 and isinstance(after[0], int)):
        raise QueryError("cursor", "malformed cursor")
    if not all(isinstance(part, str) for part in after[1:]):
        raise QueryError("cursor", "malformed cursor")
    return after[0], after[1], after[2]


@blp.route("", methods=["GET"])
@blp.arguments(KpiListArgsSchema, location="query", as_kwargs=True)
@blp.response(200, KpiListSchema)
def list_kpis(**args: Any) -> dict[str, Any]:
    """Every KPI of every product, missed first: ``category``, ``status``, ``owner`` and ``filter`` narrow
    it (the filter applies to the KPIs' products, in the catalog's syntax). ``summary`` counts all the
    KPIs selected by category and status, and the same per owning team and per capability served: how
    each team (and each capability) does on speed to market, customer satisfaction, business alignment
    and team performance, in one call."""
    limit = page_size(args.get("limit"), state().settings.api)
    chosen = {key: args.get(key) for key in ("category", "status", "owner")}
    filters: list[str] = list(args.get("filter") or [])
    after: tuple[int, str, str] | None = None
    if args.get("cursor"):
        position = decode_cursor(_CURSOR, args["cursor"], _CURSOR_STATE)
        if not all(isinstance(item, str) for item in position["filter"]):
            raise QueryError("cursor", "malformed cursor")
        after = _position(position["after"])
        filters = position["filter"]
        chosen = {key: position[key] for key in ("category", "status", "owner")}
    owners = set(owner_keys(chosen["owner"])) if chosen["owner"] else None
    states = state().kpis.states(connection(), request_filters(filters), today=state().clock().date())
    items = [
        item
        for item in items_of(states)
        if (chosen["category"] is None or item["category"] == chosen["category"])
        and (chosen["status"] is None or item["status"] == chosen["status"])
        and (owners is None or item["owner"] in owners)
    ]
    rest = [item for item in items if after is None or sort_key(item) > after]
    page = rest[:limit]
    cursor = None
    if len(rest) > limit:
        cursor = encode_cursor(_CURSOR, {"after": list(sort_key(page[-1])), "filter": filters, **chosen})
    document = page_document(page, len(items), cursor)
    owners_seen: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        owners_seen.setdefault(item["owner"] or "none", []).append(item)
    document["summary"] = {
        "byCategory": by_category(items),
        "byOwner": {owner: by_category(owned) for owner, owned in sorted(owners_seen.items())},
        "byCapability": by_capability(items),
    }
    return document


def _ref(kind: str, namespace: str, name: str) -> str:
    return EntityRef(kind.lower(), namespace, name).key


@blp.route("/<string:kind>/<string:namespace>/<string:name>/<string:kpi>/history", methods=["GET"])
@blp.arguments(KpiHistoryArgsSchema, location="query", as_kwargs=True)
@blp.response(200, KpiHistorySchema)
def kpi_history(kind: str, namespace: str, name: str, kpi: str, days: int) -> dict[str, Any]:
    """One point per day over the last ``days`` days, oldest first (the day's last value); bounded by
    ``days`` (at most 400, the retention), so answered whole."""
    ref = _ref(kind, namespace, name)
    if state().kpi_pushes.declared_one(ref, kpi) is None:
        raise NotFoundError(f"{ref} declares no KPI with id {kpi!r}")
    points = state().kpis.history(connection(), ref, kpi, days, state().clock().date())
    return page_document(points, len(points), None)


@blp.route("/<string:kind>/<string:namespace>/<string:name>/<string:kpi>/values", methods=["POST"])
@writes
@blp.arguments(KpiValueSchema, location="json", as_kwargs=True)
@blp.response(201, KpiValueAnswerSchema)
@blp.alt_response(200, description="a replay: this `at` was already kept with this value; nothing changed")
@blp.alt_response(409, description="the KPI is measured (prometheus or git), so it takes no pushed value")
def push_value(kind: str, namespace: str, name: str, kpi: str, value: float, at: Any = None) -> Any:
    """Keep a value of a ``push`` KPI; idempotent per ``at`` (default now): the same ``at`` again
    changes nothing (200), a different value for it replaces it. The KPI's value is its latest ``at``."""
    ref = _ref(kind, namespace, name)
    app_state = state()
    declared = app_state.kpi_pushes.declared_one(ref, kpi)
    if declared is None:
        raise NotFoundError(f"{ref} declares no KPI with id {kpi!r}")
    kind_of = measure_kind(declared.kpi)
    if kind_of != "push":
        what = "declared only (no measure)" if kind_of == "declared" else f"measured by {kind_of}"
        raise ConflictError(
            f"KPI {kpi!r} of {ref} is {what}; only KPIs with measure: {{push: true}} take values"
        )
    now = app_state.clock()
    moment = at or now
    if moment > now + FUTURE_SLACK:
        raise QueryError("at", "must not be in the future")
    if moment < now - timedelta(days=HISTORY_DAYS):
        raise QueryError("at", f"must be within the last {HISTORY_DAYS} days (the history kept)")
    new = app_state.kpi_pushes.push(ref, kpi, value, moment, now)
    only = parse_filters([f"kind={kind},metadata.namespace={namespace},metadata.name={name}"])
    states = [s for s in app_state.kpis.states(connection(), only) if s.declared.entity_ref == ref]
    item = next((kpi_item(s) for s in states if s.declared.kpi_id == kpi), None)
    answer = {
        "entityRef": ref,
        "id": kpi,
        "value": value,
        "at": moment,
        "replay": not new,
        "status": item["status"] if item else "unknown",
    }
    return answer, (201 if new else 200)
