"""The SQL of a webhook delivery: remember its id, apply what it asks, wake the workers, forget old ids.

Every function runs on the connection of the delivery's one transaction (``webhook_store``). What a
push or a lifecycle event changes is decided here, beside the rows it changes, so no caller can make a
repository due without recording its pushed commit, or remove one without orphaning its entities.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from catalog_sync.store.limits import too_long
from catalog_sync.store.pg_wakeup import CHANNEL
from catalog_sync.store.tables import entities, repositories, sources, webhook_deliveries
from catalog_sync.store.webhook_events import (
    ACCEPTED,
    IGNORED,
    Delivery,
    DeliveryOutcome,
    HostRepository,
    Lifecycle,
    Push,
)
from catalog_sync.store.writer import orphan_entities

PENDING = "pending"
UNKNOWN_REPOSITORY = "no repository of the catalog has this id on this host (no source lists it)"
AMBIGUOUS_REPOSITORY = (
    "the delivery names no host and several sources list a repository with this id; "
    "use a project hook, whose deliveries name the host"
)


def remember(conn: Connection, delivery: Delivery) -> bool:
    """Store the delivery's id; False when it was stored before (a redelivery, a replay)."""
    row = {
        "provider": delivery.provider,
        "delivery_id": delivery.delivery_id,
        "event": delivery.event,
        "result": PENDING,
        "received_at": delivery.received_at,
    }
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(webhook_deliveries)
        .values(row)
        .on_conflict_do_nothing(index_elements=["provider", "delivery_id"])
        .returning(webhook_deliveries.c.delivery_id)
    )
    return conn.execute(statement).first() is not None


def record_result(conn: Connection, delivery: Delivery, outcome: DeliveryOutcome) -> None:
    """Keep what the delivery did beside its id (the first repository it changed, if any)."""
    conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.provider == delivery.provider,
            webhook_deliveries.c.delivery_id == delivery.delivery_id,
        )
        .values(
            result=outcome.result,
            repository_id=outcome.repository_ids[0] if outcome.repository_ids else None,
        )
    )


def notify_workers(conn: Connection) -> None:
    """Wake the workers listening on PostgreSQL; the notification leaves when this transaction
    commits, never before (a worker woken early would find nothing due). SQLite workers poll."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def prune(conn: Connection, before: datetime) -> int:
    """Forget deliveries received before ``before``; answers how many."""
    result = conn.execute(delete(webhook_deliveries).where(webhook_deliveries.c.received_at < before))
    return int(result.rowcount or 0)


def apply(conn: Connection, delivery: Delivery, keeping_archived: frozenset[str]) -> DeliveryOutcome:
    """Apply what the delivery asks to the repositories it names."""
    action = delivery.action
    if delivery.ignored is not None:
        return DeliveryOutcome(IGNORED, delivery.ignored)
    if action is None:
        return DeliveryOutcome(ACCEPTED)
    bring_back = isinstance(action, Lifecycle) and action.change == "unarchived"
    rows = find(conn, action.repository, include_removed=bring_back)
    if isinstance(rows, str):
        return DeliveryOutcome(IGNORED, rows)
    if isinstance(action, Push):
        return _push(conn, rows, action, delivery.received_at)
    return _lifecycle(conn, rows, action, delivery.received_at, keeping_archived)


def find(conn: Connection, named: HostRepository, *, include_removed: bool) -> list[Any] | str:
    """The repository rows a delivery names (one per source listing it), or why there are none."""
    columns = (
        repositories.c.id,
        repositories.c.key,
        repositories.c.name,
        repositories.c.url,
        repositories.c.branch,
        repositories.c.removed_at,
        sources.c.name.label("source"),
    )
    stmt = select(*columns).join(sources, repositories.c.source_id == sources.c.id)
    if named.key is not None:
        stmt = stmt.where(repositories.c.key == named.key)
    else:
        stmt = stmt.where(repositories.c.key.like(f"{named.provider}:%:{named.host_id}"))
    if not include_removed:
        stmt = stmt.where(repositories.c.removed_at.is_(None))
    rows = list(conn.execute(stmt.order_by(repositories.c.id)).all())
    if not rows:
        return UNKNOWN_REPOSITORY
    if len({row.key for row in rows}) > 1:
        return AMBIGUOUS_REPOSITORY
    return rows


def _push(conn: Connection, rows: Sequence[Row[Any]], push: Push, received: datetime) -> DeliveryOutcome:
    """A push to the tracked branch makes the repository due now, to be read at the pushed commit."""
    if push.branch is None:
        return DeliveryOutcome(IGNORED, "the push is to a ref that is not a branch (a tag, say)")
    tracked = [row for row in rows if (row.branch or push.default_branch) == push.branch]
    if not tracked:
        followed = sorted({row.branch or push.default_branch or "its default branch" for row in rows})
        return DeliveryOutcome(
            IGNORED, f"the push is to branch {push.branch!r}; the catalog reads {', '.join(followed)}"
        )
    ids = [row.id for row in tracked]
    if push.commit is None:  # the tracked branch was deleted: the pass asks for the tip and says why
        values: dict[str, Any] = {"next_sync_at": received, "pushed_commit": None, "pushed_at": None}
    else:
        # The earliest push still waiting keeps its time: push-to-visible is measured from the first.
        first = repositories.c.pushed_at.is_(None) | repositories.c.pushed_commit.is_(None)
        values = {"next_sync_at": received, "pushed_commit": push.commit}
        conn.execute(update(repositories).where(repositories.c.id.in_(ids), first).values(pushed_at=received))
    conn.execute(update(repositories).where(repositories.c.id.in_(ids)).values(**values))
    return DeliveryOutcome(ACCEPTED, repository_ids=tuple(ids), woke=True)


def _lifecycle(
    conn: Connection,
    rows: Sequence[Row[Any]],
    change: Lifecycle,
    received: datetime,
    keeping_archived: frozenset[str],
) -> DeliveryOutcome:
    """Deleted and archived repositories are removed with their entities orphaned (never deleted);
    unarchived ones come back and are read; moved ones keep their key, entities and history."""
    if change.change == "archived":
        kept = [row for row in rows if row.source in keeping_archived]
        rows = [row for row in rows if row.source not in keeping_archived]
        if kept and not rows:
            return DeliveryOutcome(IGNORED, "the source lists archived repositories (archived: true)")
    ids = [row.id for row in rows]
    if change.change in ("deleted", "archived"):
        conn.execute(
            update(repositories)
            .where(repositories.c.id.in_(ids))
            .values(removed_at=received, claimed_by=None, claim_expires_at=None, pushed_commit=None)
        )
        held = conn.execute(select(entities.c.id).where(entities.c.repository_id.in_(ids))).scalars()
        orphan_entities(conn, list(held), received)
        return DeliveryOutcome(ACCEPTED, repository_ids=tuple(ids))
    if change.change == "unarchived":
        conn.execute(
            update(repositories)
            .where(repositories.c.id.in_(ids))
            .values(removed_at=None, rescan=True, next_sync_at=received)
        )
        return DeliveryOutcome(ACCEPTED, repository_ids=tuple(ids), woke=True)
    if change.change == "moved" and change.old_path and change.new_path:
        for row in rows:
            _move(conn, row, change.old_path, change.new_path)
        return DeliveryOutcome(ACCEPTED, repository_ids=tuple(ids))
    return DeliveryOutcome(IGNORED, f"the change {change.change!r} leaves the catalog as it is")


def _move(conn: Connection, row: Row[Any], old: str, new: str) -> None:
    """Follow a rename or a transfer in the name and URL shown, keeping the key (the host's id)."""
    name = moved(row.name, old, new)
    url = moved(row.url, old, new)
    values: dict[str, str] = {}
    if name != row.name and too_long(repositories.c.name, name, "name") is None:
        values["name"] = name
    if url != row.url and too_long(repositories.c.url, url, "url") is None:
        values["url"] = url
    if values:
        conn.execute(update(repositories).where(repositories.c.id == row.id).values(**values))


def moved(value: str, old: str, new: str) -> str:
    """``value`` with the path ``old`` replaced by ``new`` where it stands as a whole path (at the end,
    or before ``.git`` or ``/``), matched without regard to case as the hosts do; else unchanged."""
    if value.lower() == old.lower():
        return new
    pattern = re.compile(r"(?<=[/:])" + re.escape(old) + r"(?=(\.git)?/?$)", re.IGNORECASE)
    return pattern.sub(lambda _m: new, value, count=1)
