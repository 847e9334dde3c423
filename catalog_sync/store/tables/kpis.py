"""KPIs: each declared KPI's last value, its daily history and the values pushed to it."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, String, Table, Text

from catalog_sync.store.tables.base import TEXT_LIMIT, metadata

kpi_values = Table(
    "kpi_values",
    metadata,
    # Keyed by the entity's ref, not its id: a value outlives a re-created entity of the same name,
    # and a KPI no longer declared is pruned by the next measuring round.
    Column("entity_ref", String(600), primary_key=True),
    Column("kpi_id", String(63), primary_key=True),
    Column("measure", String(16), nullable=False),
    Column("value", Float, nullable=True),
    Column("measured_at", DateTime(timezone=True), nullable=True),
    Column("attempted_at", DateTime(timezone=True), nullable=True),
    Column("error", Text, nullable=True, info={"max_length": TEXT_LIMIT}),
)

kpi_history = Table(
    "kpi_history",
    metadata,
    Column("entity_ref", String(600), primary_key=True),
    Column("kpi_id", String(63), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("value", Float, nullable=False),
    Index(None, "day"),
)

kpi_pushes = Table(
    "kpi_pushes",
    metadata,
    Column("entity_ref", String(600), primary_key=True),
    Column("kpi_id", String(63), primary_key=True),
    Column("at", DateTime(timezone=True), primary_key=True),
    Column("value", Float, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
