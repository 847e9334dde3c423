"""Measuring KPIs on their own schedule: Prometheus queries, git measures from repository facts, and
pushed values (which the store takes directly from the API).

``Measurer`` runs one round; ``MeasuringSchedule`` runs rounds every ``kpis.interval_seconds``.
"""

from catalog_sync.kpis.rounds import Measurer, RoundSummary
from catalog_sync.kpis.schedule import MeasuringSchedule

__all__ = ["Measurer", "MeasuringSchedule", "RoundSummary"]
