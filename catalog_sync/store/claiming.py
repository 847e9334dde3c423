"""Claims and their leases: which due repositories a worker takes (``claim_due``) and keeps (``hold``).

A worker claims due repositories by writing its id and a lease expiry into them; on PostgreSQL the
candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` so two workers never pick the same row, and
the conditional update makes the claim safe on SQLite (one writer at a time) as well. A dead worker's
claims lapse when their lease expires.

Both run at least once in every pass, and a worker woken by each webhook delivery of a burst runs many
passes that find only a few repositories due: their statements are built once, per database and per
kind of pass, with named parameters (the ids as one, ``idlists.among_bound``). A statement object keeps
its cache key, so running it again costs neither construction nor compilation, only its values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    Update,
    bindparam,
    or_,
    select,
    update,
)

from catalog_sync.store.idlists import DIALECTS, among_bound, bound_ids
from catalog_sync.store.run_records import renew_heartbeat
from catalog_sync.store.sync_store import ClaimedRepository
from catalog_sync.store.tables import repositories

_WHEN = repositories.c.next_sync_at.type
_CLAIMANT: BindParameter[str] = bindparam("claimant", type_=String())
_NOW: BindParameter[datetime] = bindparam("now", type_=_WHEN)
_STARTED: BindParameter[datetime] = bindparam("started", type_=_WHEN)
_LEASE_END: BindParameter[datetime] = bindparam("lease_end", type_=_WHEN)
_LIMIT: BindParameter[int] = bindparam("limit", type_=Integer())

DUE, ONE_OFF, RESCAN = "due", "one-off", "rescan"
"""What a claim takes: what is due now, what a one-off pass has not read yet, what awaits a rescan."""


def due_condition(
    *, now: datetime | BindParameter[datetime], started_before: datetime | BindParameter[datetime] | None
) -> ColumnElement[bool]:
    """Due: for a one-off pass (``started_before`` given), not synced since the pass began; else its
    ``next_sync_at`` has come. The times are values or the parameters of a statement built once."""
    if started_before is not None:
        return or_(repositories.c.last_sync_at.is_(None), repositories.c.last_sync_at < started_before)
    return or_(repositories.c.next_sync_at.is_(None), repositories.c.next_sync_at <= now)


def free_condition(
    worker: str | BindParameter[str], now: datetime | BindParameter[datetime]
) -> ColumnElement[bool]:
    """Free for ``worker``: unclaimed, its lease expired, or its own (left by a pass of it that failed)."""
    return or_(
        repositories.c.claimed_by.is_(None),
        repositories.c.claim_expires_at < now,
        repositories.c.claimed_by == worker,
    )


def _candidates(dialect: str, kind: str) -> Select[Any]:
    """The ids to claim, in the order they fall due (never synced first), locked on PostgreSQL."""
    due = (
        repositories.c.rescan.is_(True)
        if kind == RESCAN
        else due_condition(now=_NOW, started_before=_STARTED if kind == ONE_OFF else None)
    )
    stmt = (
        select(repositories.c.id)
        .where(
            repositories.c.removed_at.is_(None),
            among_bound(dialect, repositories.c.source_id, "source_ids"),
            due,
            free_condition(_CLAIMANT, _NOW),
        )
        .order_by(repositories.c.next_sync_at.is_not(None), repositories.c.next_sync_at, repositories.c.id)
        .limit(_LIMIT)
    )
    if dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=repositories)
    return stmt


def _take(dialect: str) -> Update:
    """Claim the candidates still free, answering what the pass needs of each."""
    return (
        update(repositories)
        .where(among_bound(dialect, repositories.c.id, "ids"), free_condition(_CLAIMANT, _NOW))
        .values(claimed_by=_CLAIMANT, claim_expires_at=_LEASE_END)
        .returning(
            repositories.c.id,
            repositories.c.source_id,
            repositories.c.key,
            repositories.c.last_commit,
            repositories.c.rescan,
            repositories.c.listing_error,
            repositories.c.pushed_commit,
            repositories.c.pushed_at,
            repositories.c.next_sync_at,
        )
    )


_CANDIDATES = {
    (dialect, kind): _candidates(dialect, kind) for dialect in DIALECTS for kind in (DUE, ONE_OFF, RESCAN)
}
_TAKE = {dialect: _take(dialect) for dialect in DIALECTS}
_RENEW = (
    update(repositories).where(repositories.c.claimed_by == _CLAIMANT).values(claim_expires_at=_LEASE_END)
)
_RENEW_HELD = _RENEW.returning(repositories.c.id)
"""On SQLite (one writer at a time) the renewal itself answers what the worker holds."""
_HELD_LOCKED = (
    select(repositories.c.id)
    .where(among_bound("postgresql", repositories.c.id, "ids"), repositories.c.claimed_by == _CLAIMANT)
    .with_for_update()
)


def claim_due(
    conn: Connection,
    worker: str,
    *,
    now: datetime,
    lease_seconds: int,
    limit: int,
    source_ids: Sequence[int],
    started_before: datetime | None = None,
    rescan_only: bool = False,
) -> list[ClaimedRepository]:
    """Claim up to ``limit`` due repositories for ``worker``, in id order.

    Due means ``next_sync_at`` has come, or, for a one-off pass (``started_before`` given), not yet
    synced since the pass began; with ``rescan_only``, those flagged for a rescan after a conflict.
    Only unclaimed repositories, or those whose lease expired, are taken.
    """
    dialect = conn.dialect.name
    kind = RESCAN if rescan_only else ONE_OFF if started_before is not None else DUE
    found = {
        "claimant": worker,
        "now": now,
        "limit": limit,
        "source_ids": bound_ids(dialect, source_ids),
    }
    if kind == ONE_OFF:
        found["started"] = started_before
    ids = conn.execute(_CANDIDATES[dialect, kind], found).scalars().all()
    if not ids:
        return []
    taking = {
        "claimant": worker,
        "now": now,
        "lease_end": now + timedelta(seconds=lease_seconds),
        "ids": bound_ids(dialect, ids),
    }
    rows = sorted(conn.execute(_TAKE[dialect], taking).all(), key=lambda r: int(r.id))
    return [
        ClaimedRepository(
            r.id,
            r.source_id,
            r.key,
            r.last_commit,
            bool(r.rescan),
            r.listing_error,
            r.pushed_commit,
            _merged(r.pushed_commit, r.pushed_at, r.next_sync_at),
        )
        for r in rows
    ]


def _merged(commit: str | None, first: datetime | None, due: datetime | None) -> bool:
    """Whether a waiting push replaced another: a push keeps the first waiting push's time
    (``pushed_at``) and makes the repository due at its own (``next_sync_at``)."""
    return commit is not None and first is not None and due is not None and first < due


def hold(conn: Connection, worker: str, ids: Sequence[int], *, now: datetime, lease_seconds: int) -> set[int]:
    """Renew every claim of ``worker`` (and its pass's heartbeat) and answer which of ``ids`` it still holds.

    Called at the start of each write transaction: a worker whose lease lapsed (a long batch, a
    stall) writes nothing for repositories another worker has taken since, so an older read never
    overwrites a newer one; the renewal keeps a long batch's later repositories from lapsing.
    """
    renewal = {"claimant": worker, "lease_end": now + timedelta(seconds=lease_seconds)}
    if not ids:
        conn.execute(_RENEW, renewal)
        renew_heartbeat(conn, worker, now)
        return set()
    if conn.dialect.name != "postgresql":
        # One writer at a time (SQLite): the worker's claims, renewed here, cost no list of ids.
        held = set(conn.execute(_RENEW_HELD, renewal).scalars())
        renew_heartbeat(conn, worker, now)
        return held.intersection(ids)
    conn.execute(_RENEW, renewal)
    renew_heartbeat(conn, worker, now)
    mine = {"claimant": worker, "ids": bound_ids("postgresql", ids)}
    return set(conn.execute(_HELD_LOCKED, mine).scalars())


__all__ = ["claim_due", "due_condition", "free_condition", "hold"]
