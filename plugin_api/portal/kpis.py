"""``/kpis``: every KPI of every product, missed first, and the KPI blocks of product and team pages.

Above the list, the counts by category, and the same per capability the products serve (a capability
served by several products is judged on all their KPIs together).

The same judged items as ``GET /api/kpis`` (``store.kpis.documents``), so the page, the API and the
metrics agree on every status. A KPI's trend is its daily values over the last 30 days, drawn as an
inline SVG line scaled to its own range (KPIs have units of their own: percent, days, euros).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog_sync.descriptors.kpis import KPI_CATEGORIES, STATUSES
from catalog_sync.errors import QueryError
from catalog_sync.store.filters import parse_filters
from catalog_sync.store.kpis.documents import by_capability, by_category, items_of, kpi_item
from catalog_sync.store.scoring.gaps import owner_keys
from plugin_api.paging import decode_cursor, encode_cursor
from plugin_api.portal.blueprint import blp
from plugin_api.portal.common import limit_arg, make_pager, render, text_arg
from plugin_api.portal.refs import prime_refs
from plugin_api.state import connection, state

_CURSOR = "portal-kpis"
TREND_WIDTH = 120
TREND_HEIGHT = 28
STATUS_WORDS = {
    "met": "met",
    "missed": "missed",
    "unknown": "unknown",
    "declared": "declared only",
}


def trend_points(values: Sequence[float]) -> str | None:
    """The ``points`` of an SVG polyline through ``values`` (oldest first), None under two values."""
    if len(values) < 2:
        return None
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (TREND_WIDTH - 4) / (len(values) - 1)
    return " ".join(
        f"{2 + index * step:.1f},{2 + (1 - (value - low) / span) * (TREND_HEIGHT - 4):.1f}"
        for index, value in enumerate(values)
    )


def shown(item: dict[str, Any]) -> dict[str, Any]:
    """An item with what the templates print: its value and target in words, its trend line."""
    value = item["value"]
    return {
        **item,
        "shown_value": "—" if value is None else f"{value:g}",
        "shown_target": f"{'≤' if item['direction'] == 'at-most' else '≥'} {item['target']}",
        "status_word": STATUS_WORDS[item["status"]],
        "trend_points": trend_points(item["trend"]),
    }


def _choice(name: str, allowed: Sequence[str]) -> str | None:
    value = text_arg(name)
    if value is not None and value not in allowed:
        raise QueryError(name, f"{value!r} is not one of {', '.join(allowed)}")
    return value


@blp.route("/kpis", methods=["GET"])
def kpis() -> str:
    """Every KPI, missed first; narrowed by category, status and owning team."""
    category = _choice("category", KPI_CATEGORIES)
    status = _choice("status", STATUSES)
    owner = text_arg("owner")
    owners = set(owner_keys(owner)) if owner else None
    offset = 0
    cursor = text_arg("cursor")
    if cursor:
        offset = int(decode_cursor(_CURSOR, cursor, {"offset": int})["offset"])
    states = state().kpis.states(connection(), today=state().clock().date())
    every = items_of(states)
    items = [
        item
        for item in every
        if (category is None or item["category"] == category)
        and (status is None or item["status"] == status)
        and (owners is None or item["owner"] in owners)
    ]
    limit = limit_arg()
    page = items[offset : offset + limit]
    following = offset + limit if offset + limit < len(items) else None
    next_cursor = encode_cursor(_CURSOR, {"offset": following}) if following is not None else None
    capabilities = by_capability(every)
    prime_refs([ref for ref in capabilities if ref != "none"])
    return render(
        "kpis.html",
        items=[shown(item) for item in page],
        summary=by_category(every),
        by_capability=capabilities,
        categories=KPI_CATEGORIES,
        statuses=STATUSES,
        form={"category": category or "", "status": status or "", "owner": owner or ""},
        pager=make_pager("portal.kpis", shown=len(page), total=len(items), next_cursor=next_cursor),
    )


def product_kpis(kind: str, namespace: str, name: str) -> list[dict[str, Any]]:
    """The KPI card of one product's page: its KPIs, missed first (empty when it declares none)."""
    only = parse_filters([f"kind={kind},metadata.namespace={namespace},metadata.name={name}"])
    states = state().kpis.states(connection(), only, today=state().clock().date())
    return [shown(item) for item in items_of(states)]


def team_kpis(owner: str) -> dict[str, Any]:
    """The KPI block of a team's page: counts per category, and the team's KPIs missed first."""
    states = state().kpis.states(connection(), owner=owner, today=state().clock().date())
    items = items_of(states)
    return {"byCategory": by_category(items), "items": [shown(item) for item in items]}


def capability_kpis(capability: str) -> dict[str, dict[str, int]] | None:
    """The KPI block of a capability's page: the KPIs of the products serving it, by category and
    status (None when none of them declares a KPI), as ``summary.byCapability`` counts them."""
    states = state().kpis.states(connection())
    items = [kpi_item(found) for found in states if capability in found.declared.capabilities]
    return by_category(items) if items else None
