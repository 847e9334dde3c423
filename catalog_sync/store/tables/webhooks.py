"""Webhook deliveries already answered, so that a redelivery changes nothing."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, String, Table

from catalog_sync.store.tables.base import ID, metadata

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    # One row per authenticated delivery, kept ``webhooks.keep_deliveries_seconds``: a redelivery of
    # the same id is answered as a duplicate and changes nothing. Written in the same transaction as
    # what the delivery changed, so an answered delivery is never lost nor applied twice.
    Column("provider", String(16), primary_key=True),
    Column("delivery_id", String(200), primary_key=True),
    Column("event", String(64), nullable=False),
    Column("result", String(16), nullable=False),
    # No foreign key on purpose: its check would take a share lock on the repository row before the
    # delivery's update of that row, against the order a worker's claim locks it in (a deadlock).
    Column("repository_id", ID, nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index(None, "received_at"),
)
