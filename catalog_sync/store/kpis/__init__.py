"""The KPI store: declared KPIs read from the catalog, measured values, daily history, pushed values.

``KpiMeasuring`` is the measuring round's protocol, ``KpiReads`` the API's, the portal's, the metrics'
and scoring's, ``KpiPushes`` the push endpoint's; ``SqlKpiStore`` implements all three.
"""

from catalog_sync.store.kpis.store import KpiMeasuring, KpiPushes, KpiReads, SqlKpiStore
from catalog_sync.store.kpis.types import HISTORY_DAYS, DeclaredKpi, KpiState, Measurement, StoredValue

__all__ = [
    "HISTORY_DAYS",
    "DeclaredKpi",
    "KpiMeasuring",
    "KpiPushes",
    "KpiReads",
    "KpiState",
    "Measurement",
    "SqlKpiStore",
    "StoredValue",
]
