"""The demo's pushed values: ``descriptors/examples/kpi-values.yaml`` posted as a survey tool would.

The example organisation has no survey tool, finance export or Prometheus, yet its KPI pages should
show real values and trends: ``git`` measures come from the example repositories themselves, and the
``push`` KPIs get these values, dated relative to the day the demo starts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import yaml

from catalog_sync.errors import ConfigError
from catalog_sync.store.kpis import KpiPushes


def push_example_values(path: Path, pushes: KpiPushes, now: datetime) -> int:
    """Post every value of the file (``{entity, kpi, values: {days_ago: value}}`` items); returns how
    many were new. A value for a KPI the examples no longer declare is an error naming it."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    posted = 0
    for index, entry in enumerate(entries):
        entity, kpi = str(entry["entity"]), str(entry["kpi"])
        if pushes.declared_one(entity, kpi) is None:
            raise ConfigError(f"{path.name}[{index}]", f"{entity} declares no KPI {kpi!r}")
        for days_ago, value in sorted(dict(entry["values"]).items(), reverse=True):
            at = (now - timedelta(days=int(days_ago))).replace(hour=9, minute=0, second=0, microsecond=0)
            posted += pushes.push(entity, kpi, float(value), at, now)
    return posted
