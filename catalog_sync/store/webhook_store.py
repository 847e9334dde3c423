"""``WebhookIntake``: what the push webhooks do to the catalog, as one store operation per delivery.

A delivery is verified and read by the view (``plugin_api.webhooks``), which hands over plain data: who
sent it, its id, and what it asks (a ``Push`` or a ``Lifecycle`` change). ``record_delivery`` then, in
ONE transaction (shared with the deliveries that arrived meanwhile), remembers the delivery's id (a
redelivery is a duplicate and changes nothing), applies what it asks (a repository made due with its
pushed commit, orphaned, brought back, renamed) and, on PostgreSQL, sends the ``NOTIFY`` that wakes
the workers, which PostgreSQL delivers only when that transaction commits. So an answered delivery is
never lost (a process killed right after answering left it in the database) nor applied twice.

Repositories of the hosted sources are keyed ``{provider}:{netloc}:{id}`` (the host's own repository
id), so a rename or a transfer never changes which row a delivery names.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Collection
from datetime import timedelta
from typing import Protocol

from sqlalchemy import Connection

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
    ListingOnly,
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
    """``WebhookIntake`` on SQLite or PostgreSQL, with group commit.

    The deliveries that arrive while a transaction is being written wait, and the next transaction
    writes all of them together: one commit (one fsync, one round of SQLite's lock or PostgreSQL's
    WAL flush) for every delivery of the group instead of one each. A group of pings and pushes (nearly
    every group) is written in a few set-based statements (``deliveries.record_plain``), any other one
    delivery by delivery. Either way each is decided, remembered and applied exactly as alone, in its
    own turn, and its answer waits for the commit: an answered
    delivery is durable, a known id is a duplicate even within one group, and a transaction that fails
    fails every delivery of its group (the hosts redeliver). The thread of the first waiting delivery
    writes the group, so no thread is kept for it, and under no load a delivery writes alone at once.
    One group at a time per process, on PostgreSQL too: measured, groups written side by side (or one
    transaction per delivery, as before) cost more CPU per delivery and answered fewer per second.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._lock = threading.Lock()
        self._pruned_at = float("-inf")
        self._queue = _GroupQueue()

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
        """Wait for the transaction that writes this delivery with the others waiting (or write it,
        when a writer is free); answer its own outcome once that transaction committed."""
        waiting = _Waiting(delivery, keep_seconds, frozenset(sources_keeping_archived))
        group = self._queue.join(waiting)
        if group is not None:
            self._write_group(group)
        return waiting.outcome()

    def _write_group(self, group: list[_Waiting]) -> None:
        """Write one group and release each of its deliveries; hand the writing to the next waiter."""
        try:
            outcomes = self._write(group)
        except BaseException as exc:  # every delivery of the group fails with it
            for member in group:
                member.fail(exc)
        else:
            for member, outcome in zip(group, outcomes, strict=True):
                member.done(outcome)
        self._queue.hand_over()

    def _write(self, group: list[_Waiting]) -> list[DeliveryOutcome]:
        """One transaction for the group: each delivery in its turn, as ``record_one`` writes it.

        The deliveries are written in the order of the repository they name (then of arrival), so two
        processes writing groups that name the same repositories lock their rows in the same order
        and never wait for each other in a cycle."""
        order = sorted(range(len(group)), key=lambda n: (group[n].lock_key, n))
        outcomes: list[DeliveryOutcome] = [DeliveryOutcome(DUPLICATE)] * len(group)
        with self._database.transaction() as tx:
            conn = connection_of(tx)
            if conn.dialect.name == "sqlite":
                # The write lock first: a transaction that has read cannot wait for it (SQLite answers
                # "locked" at once when another connection writes meanwhile, as the sync loop does).
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            if all(deliveries.is_plain(member.delivery) for member in group):
                outcomes = deliveries.record_plain(conn, [member.delivery for member in group])
            else:
                for n in order:
                    outcomes[n] = record_one(conn, group[n].delivery, group[n].keeping_archived)
            if any(outcome.woke for outcome in outcomes):
                deliveries.notify_workers(conn)
            if self._prune_due():
                oldest = min(m.delivery.received_at - timedelta(seconds=m.keep_seconds) for m in group)
                deliveries.prune(conn, oldest)
        return outcomes


def record_one(conn: Connection, delivery: Delivery, keeping_archived: frozenset[str]) -> DeliveryOutcome:
    """What the delivery names is read, its id stored (a known id ends it there: a duplicate) and its
    change written, on the connection of the group's transaction."""
    outcome, write = deliveries.decide(conn, delivery, keeping_archived)
    if not deliveries.remember(conn, delivery, outcome):
        return DeliveryOutcome(DUPLICATE)
    if write is not None:
        write(conn)
    return outcome


class _Waiting:
    """One delivery waiting for the transaction that writes it, and then its outcome or failure."""

    def __init__(self, delivery: Delivery, keep_seconds: int, keeping_archived: frozenset[str]) -> None:
        self.delivery = delivery
        self.keep_seconds = keep_seconds
        self.keeping_archived = keeping_archived
        self.lock_key = _lock_key(delivery)
        self.wake = threading.Event()
        self.group: list[_Waiting] | None = None
        """Set when this delivery's thread is to write the group (itself first in it)."""
        self._outcome: DeliveryOutcome | None = None
        self._error: BaseException | None = None

    def done(self, outcome: DeliveryOutcome) -> None:
        self._outcome = outcome
        self.wake.set()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self.wake.set()

    def outcome(self) -> DeliveryOutcome:
        """The outcome, or the group's failure raised in this delivery's own thread."""
        if self._error is not None:
            raise copy.copy(self._error) from self._error
        assert self._outcome is not None
        return self._outcome


class _GroupQueue:
    """The deliveries waiting for a transaction, and whether one is being written.

    A delivery that finds no transaction under way writes the group of every delivery waiting (itself among
    them). The others wait on their own event: woken either with their outcome, or, when a writer is
    done and they are first in line, with the next group to write. A group is taken under the lock,
    so no delivery is ever in two groups."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[_Waiting] = []
        self._writing = False

    def join(self, waiting: _Waiting) -> list[_Waiting] | None:
        """Queue the delivery; answer the group its thread must write, or None once it was written."""
        with self._lock:
            self._waiting.append(waiting)
            if not self._writing:
                self._writing = True
                group, self._waiting = self._waiting, []
                return group
        waiting.wake.wait()
        return waiting.group

    def hand_over(self) -> None:
        """A group is written: the first delivery that arrived meanwhile writes the next one."""
        with self._lock:
            if not self._waiting:
                self._writing = False
                return
            group, self._waiting = self._waiting, []
            group[0].group = group
        group[0].wake.set()


def _lock_key(delivery: Delivery) -> str:
    """The repository a delivery names, for the order of the writes in a group."""
    action = delivery.action
    if action is None or isinstance(action, ListingOnly):  # names no repository: locks only sources
        return ""
    named = action.repository
    return named.key or f"{named.provider}:%:{named.host_id}"
