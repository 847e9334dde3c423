"""The notifications outbox, written beside the change that caused each event."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text, UniqueConstraint

from catalog_sync.store.tables.base import ID, JSON_TEXT, TEXT_LIMIT, metadata

notifications = Table(
    # The outbox: one row per event and channel, written in the transaction of the change that caused
    # it; ``dedupe_key`` (event, subject and day, hashed) makes a second write the same day a no-op.
    "notifications",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("channel", String(63), nullable=False),
    Column("event", String(32), nullable=False),
    Column("dedupe_key", String(64), nullable=False),
    Column("entity_ref", String(600), nullable=True),
    Column("payload", Text, nullable=False, info=JSON_TEXT),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("claimed_by", String(128), nullable=True),
    Column("claim_expires_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True, info={"max_length": TEXT_LIMIT}),
    UniqueConstraint("channel", "dedupe_key"),
    Index(None, "status", "next_attempt_at"),
)
