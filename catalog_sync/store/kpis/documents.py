"""KPIs as the API, the portal and the metrics show them: one judged item each, and counts by category.

Judging happens here, on read, against the descriptor as it is now (``descriptors.kpis.judge``), so
every reader agrees on a KPI's status and an edited target needs no new measurement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from catalog_sync.descriptors.kpis import (
    DEFAULT_DIRECTION,
    DEFAULT_WINDOW,
    KPI_CATEGORIES,
    STATUSES,
    judge,
    measure_kind,
)
from catalog_sync.store.kpis.types import KpiState

STATUS_ORDER = {"missed": 0, "unknown": 1, "met": 2, "declared": 3}
"""Missed first: the list a platform lead reads top down starts with what needs them."""


def kpi_item(state: KpiState) -> dict[str, Any]:
    """One KPI with its status, value and the reason of its last failure (SPEC section 9)."""
    declared, stored = state.declared, state.stored
    kpi = declared.kpi
    value = stored.value if stored else None
    error = stored.error if stored else None
    kind = measure_kind(kpi)
    if kind == "push" and stored is None:
        error = "no value pushed yet"
    elif kind in ("prometheus", "git") and stored is None:
        error = "not measured yet"
    status = judge(kpi, value, error)
    target = kpi.get("target")
    ratio = None
    if value is not None and isinstance(target, int | float) and not isinstance(target, bool) and target:
        ratio = value / target
    return {
        "entityRef": declared.entity_ref,
        "entityTitle": declared.title,
        "id": declared.kpi_id,
        "name": kpi.get("name"),
        "category": kpi.get("category"),
        "target": target,
        "direction": kpi.get("direction", DEFAULT_DIRECTION),
        "unit": kpi.get("unit"),
        "window": kpi.get("window", DEFAULT_WINDOW) if kind != "declared" else kpi.get("window"),
        "measure": kind,
        "status": status,
        "value": value,
        "ratio": ratio,
        "measuredAt": stored.measured_at if stored else None,
        "attemptedAt": stored.attempted_at if stored else None,
        "error": error if kind != "declared" else None,
        "owner": declared.owner or None,
        "capabilities": list(declared.capabilities),
        "tier": declared.tier,
        "trend": list(state.trend),
    }


def sort_key(item: dict[str, Any]) -> tuple[int, str, str]:
    """Missed first, then unknown, met, declared; within a status by entity and id."""
    return (STATUS_ORDER[item["status"]], item["entityRef"], item["id"])


def by_category(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """KPIs met / missed / unknown / declared per category, every category and status present."""
    counts = {category: dict.fromkeys(STATUSES, 0) for category in KPI_CATEGORIES}
    for item in items:
        counts.setdefault(str(item["category"]), dict.fromkeys(STATUSES, 0))[item["status"]] += 1
    return counts


def by_capability(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, dict[str, int]]]:
    """``by_category`` per capability the KPIs' products serve (``none`` for products serving none):
    a KPI of a product serving two capabilities counts under both, as the product serves both."""
    served: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        for capability in item.get("capabilities") or ["none"]:
            served.setdefault(capability, []).append(item)
    return {capability: by_category(found) for capability, found in sorted(served.items())}


def items_of(states: Sequence[KpiState]) -> list[dict[str, Any]]:
    """Every state as an item, missed first."""
    return sorted((kpi_item(state) for state in states), key=sort_key)
