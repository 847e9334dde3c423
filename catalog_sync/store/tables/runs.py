"""Sync passes: one row per pass of any worker, what it did and whether it is still alive."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, Integer, String, Table, Text

from catalog_sync.store.tables.base import ID, TEXT_LIMIT, metadata

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("worker", String(128), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("result", String(16), nullable=False, default="running"),
    Column("repositories", Integer, nullable=False, default=0),
    Column("changed", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("duration_seconds", Float, nullable=True),
    Column("message", Text, nullable=True, info={"max_length": TEXT_LIMIT}),
    # The last sign of life of the pass: a running pass whose heartbeat is older than a lease is dead.
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Index(None, "started_at"),
    Index(None, "result"),  # every pass looks for the running ones (dead passes to close)
)
