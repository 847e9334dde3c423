"""Expiry: under ``orphan_policy: delete``, orphans past ``orphan_grace_seconds`` are deleted.

Which ones is decided by ``reconcile.expired_orphans`` from plain rows; the store deletes them and
re-points the relations that named them, in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from catalog_sync.config import SyncSettings
from catalog_sync.reconcile import expired_orphans
from catalog_sync.store.sync_store import SyncStore


def expire_orphans(store: SyncStore, settings: SyncSettings, now: datetime) -> int:
    """Delete the orphans whose grace period has passed; answers how many went."""
    if settings.orphan_policy != "delete":
        return 0
    with store.transaction() as tx:
        chosen = expired_orphans(store.list_orphans(tx), now=now, grace_seconds=settings.orphan_grace_seconds)
        return store.delete_orphans(tx, chosen) if chosen else 0
