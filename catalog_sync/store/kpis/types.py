"""The plain values the KPI store hands out and takes in; no SQL, so the engine and views can hold them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

HISTORY_DAYS = 400
"""Daily points kept per KPI, like scorecards' history; older ones go at the next measuring round."""


@dataclass(frozen=True)
class DeclaredKpi:
    """One KPI as its product's descriptor declares it now, with what the measurer needs beside it."""

    entity_ref: str
    """The product's ref key (``product:default/payments-api``)."""
    title: str
    kpi: dict[str, Any]
    """The KPI's mapping as written (name, category, target, direction, window, measure...)."""
    kpi_id: str
    owner: str
    """The resolved owner's ref key, ``""`` when none resolves."""
    tier: int | None
    facts: dict[str, Any] | None = None
    """The product's repository facts (``git`` measures read their releases and commits)."""
    capabilities: tuple[str, ...] = ()
    """The live capabilities the product serves (the scorer's, as ``/capabilities`` shows them), so
    KPIs roll up per capability."""


@dataclass(frozen=True)
class StoredValue:
    """What measuring last found for one KPI: the last good value and the last failure's reason."""

    value: float | None
    measured_at: datetime | None
    attempted_at: datetime | None
    error: str | None


@dataclass(frozen=True)
class Measurement:
    """One KPI measured once: a value, or why there is none (``error``), at ``at``."""

    entity_ref: str
    kpi_id: str
    measure: str
    value: float | None
    error: str | None
    at: datetime


@dataclass(frozen=True)
class KpiState:
    """A declared KPI with its stored value: what lists, summaries, metrics and scoring judge."""

    declared: DeclaredKpi
    stored: StoredValue | None
    trend: list[float] = field(default_factory=list)
