"""Orphans past their grace period: listing them for the expiry decision, and deleting those chosen.

Which orphans go is decided by ``reconcile.expired_orphans`` from plain rows; deleting them here also
re-points the relations that named them (``writer.repoint_counterparts``), in the same transaction,
so a Product owned by a deleted Group names the Team of that name again whoever deleted the Group.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select

from catalog_sync.descriptors.relations import COUNTERPARTS
from catalog_sync.plans import OrphanRow
from catalog_sync.store.tables import entities
from catalog_sync.store.writer import repoint_counterparts

_CHUNK = 500


def list_orphans(conn: Connection) -> list[OrphanRow]:
    """Every orphan in the catalog and since when, for the expiry decision."""
    rows = conn.execute(
        select(entities.c.id, entities.c.orphaned_at).where(entities.c.orphaned_at.is_not(None))
    )
    return [OrphanRow(row.id, _utc(row.orphaned_at)) for row in rows]


def delete_orphans(conn: Connection, ids: Sequence[int]) -> int:
    """Delete the given entities if they are still orphans, and re-point what named them.

    An entity that a repository claimed again since the decision (no longer an orphan) is kept.
    Returns how many were deleted.
    """
    deleted: list[tuple[str, str, str]] = []
    unique = sorted(set(ids))
    for start in range(0, len(unique), _CHUNK):
        result = conn.execute(
            delete(entities)
            .where(entities.c.id.in_(unique[start : start + _CHUNK]), entities.c.orphaned_at.is_not(None))
            .returning(entities.c.kind, entities.c.namespace, entities.c.name)
        )
        deleted.extend((row.kind, row.namespace, row.name) for row in result)
    repoint_counterparts(conn, {(ns, name) for kind, ns, name in deleted if kind in COUNTERPARTS})
    return len(deleted)


def _utc(value: datetime) -> datetime:
    """SQLite hands back the UTC times it stores without their zone; PostgreSQL with it."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
