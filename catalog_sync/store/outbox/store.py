"""The outbox's two protocols, the delivery loop's and the readers', over SQLAlchemy Core.

A delivery loop claims due rows (``pending``, their next try due, no live claim) with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL and under SQLite's one writer, so two processes never send
the same row at once; a claim expires after its lease, so a process killed mid-delivery leaves its
rows to the next one (at least once: a receiver may see a row again, with the same delivery id).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, or_, select, update

from catalog_sync.store.base import Database, Transaction, connection_of
from catalog_sync.store.limits import fit
from catalog_sync.store.outbox.types import Delivery, NotificationPage, Try
from catalog_sync.store.repo_queries import utc
from catalog_sync.store.tables import notifications

DELIVERY_NAMESPACE = uuid.UUID("6f1c2b1e-6a43-4d55-9a5e-2f3c0f4b9d21")
"""Delivery ids are derived from the row's channel and key, so every try of one row carries one id."""


def delivery_id(channel: str, key: str) -> str:
    """The ``X-Catalog-Delivery`` id of a row: the same at every try, so a receiver can drop repeats."""
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{channel}\x00{key}"))


class OutboxDelivery(Protocol):
    """What the delivery loop needs: claims on due rows, and a record of each try."""

    def claim(self, worker: str, now: datetime, limit: int, lease_seconds: float) -> list[Delivery]:
        """Claim up to ``limit`` due rows for ``worker``, oldest due first; no two workers hold one."""
        ...

    def record(self, worker: str, tries: Sequence[Try]) -> None:
        """Record a batch of tries in one transaction and release their claims."""
        ...


class OutboxReads(Protocol):
    """What ``GET /api/notifications`` and the portal read."""

    def list_notifications(
        self, tx: Transaction, *, status: str | None, before_id: int | None, limit: int
    ) -> NotificationPage:
        """Rows newest first, of one status or all, after the cursor's id."""
        ...


class SqlOutbox:
    """Both outbox protocols on one ``Database``."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def claim(self, worker: str, now: datetime, limit: int, lease_seconds: float) -> list[Delivery]:
        with self._database.transaction() as tx:
            conn = connection_of(tx)
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            query = (
                select(notifications)
                .where(
                    notifications.c.status == "pending",
                    notifications.c.next_attempt_at <= now,
                    or_(notifications.c.claim_expires_at.is_(None), notifications.c.claim_expires_at < now),
                )
                .order_by(notifications.c.next_attempt_at, notifications.c.id)
                .limit(limit)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(conn.execute(query))
            if not rows:
                return []
            conn.execute(
                update(notifications)
                .where(notifications.c.id.in_([row.id for row in rows]))
                .values(claimed_by=worker[:128], claim_expires_at=now + timedelta(seconds=lease_seconds))
            )
        return [
            Delivery(
                id=row.id,
                channel=row.channel,
                event=row.event,
                delivery_id=delivery_id(row.channel, row.dedupe_key),
                payload=json.loads(row.payload),
                attempts=row.attempts,
                created_at=utc(row.created_at) or row.created_at,
            )
            for row in rows
        ]

    def record(self, worker: str, tries: Sequence[Try]) -> None:
        if not tries:
            return
        with self._database.transaction() as tx:
            conn = connection_of(tx)
            for tried in tries:
                values: dict[str, Any] = {
                    "status": tried.status,
                    "attempts": tried.delivery.attempts + 1,
                    "last_error": fit(notifications.c.last_error, tried.error),
                    "claimed_by": None,
                    "claim_expires_at": None,
                }
                if tried.status == "delivered":
                    values["delivered_at"] = tried.at
                if tried.next_attempt_at is not None:
                    values["next_attempt_at"] = tried.next_attempt_at
                # A row another process took over after this claim expired is left to that process.
                conn.execute(
                    update(notifications)
                    .where(
                        notifications.c.id == tried.delivery.id,
                        notifications.c.status == "pending",
                        or_(notifications.c.claimed_by == worker[:128], notifications.c.claimed_by.is_(None)),
                    )
                    .values(**values)
                )

    def list_notifications(
        self, tx: Transaction, *, status: str | None, before_id: int | None, limit: int
    ) -> NotificationPage:
        conn = connection_of(tx)
        conditions: list[Any] = []
        if status is not None:
            conditions.append(notifications.c.status == status)
        total = int(
            conn.execute(select(func.count()).select_from(notifications).where(*conditions)).scalar_one()
        )
        if before_id is not None:
            conditions.append(notifications.c.id < before_id)
        query = select(notifications).where(*conditions).order_by(notifications.c.id.desc()).limit(limit + 1)
        rows = list(conn.execute(query))
        page = rows[:limit]
        return NotificationPage(
            items=[_item(row) for row in page],
            total=total,
            last_id=page[-1].id if page else None,
            has_more=len(rows) > limit,
        )


def _item(row: Any) -> dict[str, Any]:
    payload = json.loads(row.payload)
    return {
        "id": row.id,
        "deliveryId": delivery_id(row.channel, row.dedupe_key),
        "channel": row.channel,
        "event": row.event,
        "entityRef": row.entity_ref,
        "summary": payload.get("summary") if isinstance(payload, dict) else None,
        "status": row.status,
        "attempts": row.attempts,
        "createdAt": utc(row.created_at),
        "nextAttemptAt": utc(row.next_attempt_at) if row.status == "pending" else None,
        "deliveredAt": utc(row.delivered_at),
        "lastError": row.last_error,
    }


def pending_count(database: Database, channels: Sequence[str] | None = None) -> int:
    """Rows still to deliver (for the benchmark's wait and the tests)."""
    with database.reading() as tx:
        query = select(func.count()).select_from(notifications).where(notifications.c.status == "pending")
        if channels:
            query = query.where(notifications.c.channel.in_(list(channels)))
        return int(connection_of(tx).execute(query).scalar_one())
