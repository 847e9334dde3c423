"""Passes that died, and claims that a one-off pass had to leave alone.

A pass records itself as ``running`` with a heartbeat that every write transaction renews (with its
claims' leases, ``repos.hold``). A process killed mid-pass (SIGKILL, the machine gone, the database
lost) never records its end: the next pass finds it here and closes it as ``aborted``, giving back
the claims it still held. Which runs are dead is decided by the sync engine (``sync.runs``), which
knows the host and its processes; the store only reads and writes the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, String, bindparam, func, or_, select, update

from catalog_sync.store.limits import fit
from catalog_sync.store.sync_store import HeldElsewhere, RunningRun
from catalog_sync.store.tables import repositories, sync_runs

ABORTED = "aborted"
_HEARTBEAT = (
    update(sync_runs)
    .where(sync_runs.c.worker == bindparam("runner", type_=String()), sync_runs.c.result == "running")
    .values(heartbeat_at=bindparam("beat", type_=sync_runs.c.heartbeat_at.type))
)
"""Built once: every write transaction of a pass renews the heartbeat."""


def running_runs(conn: Connection) -> list[RunningRun]:
    """Every pass recorded as running (this worker's own included: the caller tells them apart)."""
    rows = conn.execute(
        select(sync_runs.c.id, sync_runs.c.worker, sync_runs.c.started_at, sync_runs.c.heartbeat_at)
        .where(sync_runs.c.result == "running")
        .order_by(sync_runs.c.id)
    )
    return [RunningRun(r.id, r.worker, r.started_at, r.heartbeat_at) for r in rows]


def renew_heartbeat(conn: Connection, worker: str, now: datetime) -> None:
    """The worker's running pass is alive: called with each renewal of its claims."""
    conn.execute(_HEARTBEAT, {"runner": worker, "beat": now})


def abort_run(conn: Connection, run: RunningRun, *, now: datetime, reason: str) -> int:
    """Close a dead pass as ``aborted`` with why, and give back its claims; answers how many."""
    conn.execute(
        update(sync_runs)
        .where(sync_runs.c.id == run.id, sync_runs.c.result == "running")
        .values(result=ABORTED, finished_at=now, message=fit(sync_runs.c.message, reason))
    )
    released = conn.execute(
        update(repositories)
        .where(repositories.c.claimed_by == run.worker)
        .values(claimed_by=None, claim_expires_at=None)
    )
    return int(released.rowcount or 0)


def held_elsewhere(
    conn: Connection, worker: str, *, source_ids: Sequence[int], started_before: datetime, now: datetime
) -> list[HeldElsewhere]:
    """The repositories a one-off pass left unread because other workers hold their claims."""
    if not source_ids:
        return []
    rows = conn.execute(
        select(repositories.c.claimed_by, func.count(), func.max(repositories.c.claim_expires_at))
        .where(
            repositories.c.removed_at.is_(None),
            repositories.c.source_id.in_(list(source_ids)),
            or_(repositories.c.last_sync_at.is_(None), repositories.c.last_sync_at < started_before),
            repositories.c.claimed_by.is_not(None),
            repositories.c.claimed_by != worker,
            repositories.c.claim_expires_at >= now,
        )
        .group_by(repositories.c.claimed_by)
        .order_by(repositories.c.claimed_by)
    )
    return [HeldElsewhere(str(holder), int(count), until) for holder, count, until in rows]
