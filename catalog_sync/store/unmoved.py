"""Repositories whose tip is known not to have moved, recorded in bulk without being claimed.

Most repositories of a large fleet have not moved since their last read, and many sources know so
without asking anything (a hosting API's listing that answered 304, a local ref file). Claiming such a
repository, renewing the claim and recording it unchanged would write its row twice and cost a dozen
statements a batch for nothing the claim protects: there is nothing to read. Instead, the pass reads
the due candidates, compares their last commits with the tips the sources know, and records the
matches in one set-based statement (``record_unmoved``).

Only repositories in good standing qualify: state ``ok`` (so there is no ``fetch`` problem to clear: a
repository is ``ok`` only after a read or an unchanged tip, both of which clear it), not flagged for a
rescan, no push waiting, no listing error; an empty repository (read as having no commit) qualifies
when its source still knows it empty (``NO_COMMIT``). Everything else goes through claims as before.
The candidates are read in the write's transaction, under its locks (on PostgreSQL ``FOR UPDATE SKIP
LOCKED``, so a row another worker is claiming is left to it and nobody waits), so a
repository claimed or read by another worker meanwhile is never overwritten. Only tips known without
asking anything may be compared there: the locks are held while they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, select, update

from catalog_sync.store.claiming import due_condition, free_condition
from catalog_sync.store.idlists import among
from catalog_sync.store.run_records import renew_heartbeat
from catalog_sync.store.sync_store import NO_COMMIT, UnmovedCandidate
from catalog_sync.store.tables import repositories


def _unmoved_conditions(
    worker: str, *, now: datetime, source_ids: Sequence[int], started_before: datetime | None
) -> list[ColumnElement[bool]]:
    """Due and free (as ``claim_due`` takes them), in good standing, and nothing asked of it but a tip."""
    return [
        repositories.c.removed_at.is_(None),
        repositories.c.source_id.in_(list(source_ids)),
        due_condition(now=now, started_before=started_before),
        free_condition(worker, now),
        repositories.c.state == "ok",
        repositories.c.rescan.is_(False),
        repositories.c.pushed_commit.is_(None),
        repositories.c.listing_error.is_(None),
    ]


def record_unmoved(
    conn: Connection,
    worker: str,
    tip_of: Callable[[UnmovedCandidate], str | None],
    *,
    now: datetime,
    interval_seconds: int,
    source_ids: Sequence[int],
    started_before: datetime | None,
) -> int:
    """Record as unchanged (as ``record_unchanged`` does) every candidate whose tip, as ``tip_of``
    knows it without asking anything (None: it does not), is still its last commit; answers how many.

    The candidates are read under the write's lock (on PostgreSQL, rows another worker is claiming are
    skipped, not waited for), so none can be claimed or read elsewhere before it is recorded. The
    worker's running pass's heartbeat is renewed first, as by every write of a pass (on SQLite this
    also takes the write lock before anything is read).
    """
    if not source_ids:
        return 0
    renew_heartbeat(conn, worker, now)
    candidates = select(
        repositories.c.id, repositories.c.source_id, repositories.c.key, repositories.c.last_commit
    ).where(*_unmoved_conditions(worker, now=now, source_ids=source_ids, started_before=started_before))
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True, of=repositories)
    rows = conn.execute(candidates).all()  # at once: iterating a result fetches row by row, slowly
    settled = [
        candidate.id
        for candidate in (UnmovedCandidate(int(r[0]), int(r[1]), str(r[2]), r[3] or NO_COMMIT) for r in rows)
        if tip_of(candidate) == candidate.last_commit
    ]
    if not settled:
        return 0
    conn.execute(
        update(repositories)
        .where(among(conn, repositories.c.id, settled))
        .values(
            last_sync_at=now,
            last_success_at=now,
            failures=0,
            last_error=None,
            next_sync_at=now + timedelta(seconds=interval_seconds),
            claimed_by=None,
            claim_expires_at=None,
        )
    )
    return len(settled)


__all__ = ["record_unmoved"]
