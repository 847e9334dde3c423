"""The ``kpi`` rule: ``{kpi: {category?, status, min?}}`` passes when at least ``min`` (default 1) of
the entity's KPIs (of ``category``, when given) have ``status``, judged like ``GET /api/kpis`` does.

KPI values change between sync passes, when nothing in the catalog does, so the answer holds for
``KPI_VALIDITY`` only: the scorer judges the entity again at its first re-score after that.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from catalog_sync.descriptors.kpis import judge, kpi_id, measure_kind
from catalog_sync.scoring.plugins import CheckResult
from catalog_sync.scoring.resolve import Context

KPI_VALIDITY = timedelta(hours=1)
"""How long a ``kpi`` check's answer is kept before the entity is judged again."""


def kpi_rule(rule: Any, context: Context, now: datetime) -> tuple[CheckResult, datetime | None]:
    """Count the entity's KPIs with the wanted status; the value shown is that count."""
    category = rule.get("category")
    wanted = str(rule.get("status", "met"))
    least = int(rule.get("min", 1))
    declared = context.spec.get("kpis")
    kpis = [k for k in declared if isinstance(k, dict)] if isinstance(declared, list) else []
    if category:
        kpis = [k for k in kpis if k.get("category") == category]
    stored = context.kpis or {}
    count = 0
    for kpi in kpis:
        value, error = stored.get(kpi_id(kpi), (None, None))
        if measure_kind(kpi) != "declared" and kpi_id(kpi) not in stored:
            error = "not measured yet"
        if judge(kpi, value, error) == wanted:
            count += 1
    which = f"{category} KPIs" if category else "KPIs"
    if not kpis:
        message = f"no {which} declared: add them to spec.kpis, with a measure"
    else:
        message = f"{count} of {len(kpis)} {which} {wanted} ({least} needed)"
    return CheckResult(count >= least, count, message), now + KPI_VALIDITY
