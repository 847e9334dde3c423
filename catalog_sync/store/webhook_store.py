"""``WebhookIntake``: what the push webhooks do to the catalog, as one store operation per delivery.

A delivery is verified and read by the view (``plugin_api.webhooks``), which hands over plain data: who
sent it, its id, and what it asks (a ``Push`` or a ``Lifecycle`` change). ``record_delivery`` then, in
ONE transaction, remembers the delivery's id (a redelivery is a duplicate and changes nothing), applies
what it asks (a repository made due with its pushed commit, orphaned, brought back, renamed) and, on
PostgreSQL, sends the ``NOTIFY`` that wakes the workers, which PostgreSQL delivers only when that
transaction commits. So an answered delivery is never lost (a process killed right after answering
left it in the database) nor applied twice.

Repositories of the hosted sources are keyed ``{provider}:{netloc}:{id}`` (the host's own repository
id), so a rename or a transfer never changes which row a delivery names.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import Protocol

from catalog_sync.store import deliveries
from catalog_sync.store.base import Database, connection_of
from catalog_sync.store.webhook_events import (
    ACCEPTED,
    DUPLICATE,
    IGNORED,
    Delivery,
    DeliveryOutcome,
    HostRepository,
    Lifecycle,
    Push,
)

PRUNE_EVERY_SECONDS = 60.0
"""Old deliveries are forgotten at most this often per process, inside a delivery's transaction, so
pruning costs no commit of its own."""

__all__ = [
    "ACCEPTED",
    "DUPLICATE",
    "IGNORED",
    "Delivery",
    "DeliveryOutcome",
    "HostRepository",
    "Lifecycle",
    "Push",
    "SqlWebhookIntake",
    "WebhookIntake",
]


class WebhookIntake(Protocol):
    """What the webhook endpoints may do to the catalog: record one delivery and what it asks."""

    def record_delivery(
        self, delivery: Delivery, *, keep_seconds: int, sources_keeping_archived: Collection[str] = ()
    ) -> DeliveryOutcome:
        """Remember the delivery and apply it, in one transaction; a known id is a duplicate.

        ``sources_keeping_archived`` names the sources configured to list archived repositories: an
        ``archived`` event orphans nothing of theirs. Deliveries older than ``keep_seconds`` are
        forgotten on the way.
        """
        ...


class SqlWebhookIntake:
    """``WebhookIntake`` on SQLite or PostgreSQL."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._lock = threading.Lock()
        self._pruned_at = float("-inf")
        self._writer = threading.Lock()

    def _one_writer(self) -> AbstractContextManager[object]:
        """On SQLite, the deliveries of this process write one at a time, queued here.

        SQLite has one writer. Threads that meet its lock wait in its busy handler, which sleeps in
        growing steps (up to 100 ms) and retries, so a delivery can keep losing the lock to newer
        ones: 50 threads writing deliveries saw a slowest write twice as slow as queued here, and
        spent a quarter more CPU on retries. Queued on a lock of the process, each gets the database
        as soon as the one before commits. PostgreSQL writes them side by side.
        """
        return self._writer if self._database.dialect == "sqlite" else nullcontext()

    def _prune_due(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._pruned_at < PRUNE_EVERY_SECONDS:
                return False
            self._pruned_at = now
            return True

    def record_delivery(
        self, delivery: Delivery, *, keep_seconds: int, sources_keeping_archived: Collection[str] = ()
    ) -> DeliveryOutcome:
        """One transaction: what the delivery names is read, its id stored (a known id ends it there),
        its change written, the workers woken, and now and then old deliveries pruned."""
        with self._one_writer(), self._database.transaction() as tx:
            conn = connection_of(tx)
            outcome, write = deliveries.decide(conn, delivery, frozenset(sources_keeping_archived))
            if not deliveries.remember(conn, delivery, outcome):
                return DeliveryOutcome(DUPLICATE)
            if write is not None:
                write(conn)
            if outcome.woke:
                deliveries.notify_workers(conn)
            if self._prune_due():
                deliveries.prune(conn, delivery.received_at - timedelta(seconds=keep_seconds))
        return outcome
