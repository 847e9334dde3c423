"""Sources, repositories, claims and sync runs: the bookkeeping that lets many workers share a fleet.

Claims and their leases live in ``claiming`` (named here too, for the store's callers). The bookkeeping
every pass writes for what it read (``record_unchanged``, ``settle_pushes``) runs statements built once
per database, the ids bound as one parameter (``idlists.among_bound``): a worker woken by each webhook
delivery of a burst runs them in many small passes, where building and compiling them again would cost
more than the database's work.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from catalog_sync.sources.registered import REGISTERED_SOURCE
from catalog_sync.sources.urls import redact
from catalog_sync.store.claiming import claim_due, due_condition, free_condition, hold
from catalog_sync.store.idlists import DIALECTS, among_bound, bound_ids
from catalog_sync.store.limits import fit
from catalog_sync.store.sync_store import ClaimedRepository
from catalog_sync.store.tables import descriptor_files, problems, repositories, sources, sync_runs

__all__ = [
    "REGISTERED_SOURCE",
    "ClaimedRepository",
    "claim_due",
    "count_problems",
    "delete_run",
    "due_condition",
    "ensure_source",
    "finish_run",
    "free_condition",
    "hold",
    "insert_new",
    "load_facts",
    "make_due",
    "record_failures",
    "record_unchanged",
    "release_all_claims",
    "repository_previous",
    "settle_pushes",
    "start_run",
]
STALE_AFTER_FAILURES = 3
MAX_BACKOFF_SECONDS = 6 * 3600


def insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
    """Insert rows, skipping those another worker inserted a moment ago (same unique ``keys``)."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(pg_insert(table).on_conflict_do_nothing(index_elements=list(keys)), rows)
    elif dialect == "sqlite":
        conn.execute(sqlite_insert(table).on_conflict_do_nothing(index_elements=list(keys)), rows)
    else:
        conn.execute(insert(table), rows)


def ensure_source(conn: Connection, name: str, type_: str, target: str) -> int:
    """The id of the source row, created on first sight; the configuration is the truth for its fields.

    The target (a URL, a path) is shown by the API, so it is stored without credentials.
    """
    target = redact(target)
    row = conn.execute(
        select(sources.c.id, sources.c.type, sources.c.target).where(sources.c.name == name)
    ).first()
    if row is None:
        insert_new(conn, sources, [{"name": name, "type": type_, "target": target}], ["name"])
        row = conn.execute(
            select(sources.c.id, sources.c.type, sources.c.target).where(sources.c.name == name)
        ).one()
    if (row.type, row.target) != (type_, target):
        conn.execute(update(sources).where(sources.c.id == row.id).values(type=type_, target=target))
    return int(row.id)


def reread_on_new_rules(conn: Connection, source_id: int, rules: str, now: datetime) -> int:
    """When the rules a source's repositories were read by have changed, make every one of them due
    for a full read (as a push would); answer how many. The digest is kept for the next pass."""
    stored = conn.execute(select(sources.c.read_rules).where(sources.c.id == source_id)).scalar_one_or_none()
    if stored == rules:
        return 0
    conn.execute(update(sources).where(sources.c.id == source_id).values(read_rules=rules))
    if stored is None:
        return 0  # first sight: its repositories are read in full anyway, or were read by these rules
    result = conn.execute(
        update(repositories)
        .where(repositories.c.source_id == source_id, repositories.c.removed_at.is_(None))
        .values(next_sync_at=now, rescan=True)
    )
    return int(result.rowcount or 0)


def release_all_claims(conn: Connection, worker: str) -> None:
    """Give back every claim of ``worker``: a pass that fails leaves nothing claimed for a lease."""
    conn.execute(
        update(repositories)
        .where(repositories.c.claimed_by == worker)
        .values(claimed_by=None, claim_expires_at=None)
    )


def make_due(conn: Connection, repository_id: int, now: datetime) -> bool:
    """Make one repository due now and read it fully even at the same commit (a push, a refresh).

    Answers False when there is no such repository (or it was removed).
    """
    result = conn.execute(
        update(repositories)
        .where(repositories.c.id == repository_id, repositories.c.removed_at.is_(None))
        .values(next_sync_at=now, rescan=True)
    )
    return bool(result.rowcount)


def _settle_statements(dialect: str) -> dict[str, Any]:
    """The statements of ``settle_pushes`` and ``record_unchanged`` on ``dialect``; ids bound as ``ids``."""
    chosen = among_bound(dialect, repositories.c.id, "ids")
    when = repositories.c.next_sync_at.type
    return {
        "waiting": select(repositories.c.id, repositories.c.pushed_commit, repositories.c.pushed_at).where(
            chosen, repositories.c.pushed_commit.is_not(None)
        ),
        "settled": update(repositories).where(chosen).values(pushed_commit=None, pushed_at=None),
        "newer": update(repositories).where(chosen).values(next_sync_at=bindparam("now", type_=when)),
        "unchanged": update(repositories)
        .where(chosen)
        .values(
            state="ok",
            last_sync_at=bindparam("now", type_=when),
            last_success_at=bindparam("now", type_=when),
            failures=0,
            last_error=None,
            next_sync_at=bindparam("next_at", type_=when),
            claimed_by=None,
            claim_expires_at=None,
        ),
        "fetch_problems": delete(problems).where(
            among_bound(dialect, problems.c.repository_id, "ids"), problems.c.category == "fetch"
        ),
    }


_SETTLE = {dialect: _settle_statements(dialect) for dialect in DIALECTS}
"""Built once per database: see the module's docstring."""


def settle_pushes(conn: Connection, read: Sequence[tuple[int, str]], now: datetime) -> list[datetime]:
    """Clear the pushed commits that were just read; a repository whose pushed commit is another (a
    push arrived while it was read) stays due now. Answers the cleared pushes' arrival times."""
    if not read:
        return []
    dialect = conn.dialect.name
    statements = _SETTLE[dialect]
    ids = bound_ids(dialect, [rid for rid, _ in read])
    waiting = {
        r.id: (r.pushed_commit, r.pushed_at) for r in conn.execute(statements["waiting"], {"ids": ids})
    }
    if not waiting:
        return []
    settled = [(rid, waiting[rid][1]) for rid, commit in read if rid in waiting and waiting[rid][0] == commit]
    newer = [rid for rid in waiting if rid not in {s for s, _ in settled}]
    if settled:
        conn.execute(statements["settled"], {"ids": bound_ids(dialect, [rid for rid, _ in settled])})
    if newer:
        conn.execute(statements["newer"], {"ids": bound_ids(dialect, newer), "now": now})
    return [at for _, at in settled if at is not None]


def record_unchanged(conn: Connection, ids: Sequence[int], now: datetime, interval_seconds: int) -> None:
    """The tip has not moved: only the bookkeeping changes, which is what keeps re-syncs cheap."""
    if not ids:
        return
    dialect = conn.dialect.name
    statements = _SETTLE[dialect]
    chosen = bound_ids(dialect, ids)
    next_at = now + timedelta(seconds=interval_seconds)
    conn.execute(statements["unchanged"], {"ids": chosen, "now": now, "next_at": next_at})
    conn.execute(statements["fetch_problems"], {"ids": chosen})


def record_failures(
    conn: Connection, failures: Sequence[tuple[int, str]], now: datetime, interval_seconds: int
) -> None:
    """A repository that cannot be read keeps its entities; it is failing, then stale, and backs off.

    The messages quote git and the network, which may quote a URL: they are stored redacted.
    """
    if not failures:
        return
    failures = [(rid, fit(problems.c.message, redact(message)) or "") for rid, message in failures]
    ids = [rid for rid, _ in failures]
    counts = {
        r.id: r.failures
        for r in conn.execute(
            select(repositories.c.id, repositories.c.failures).where(repositories.c.id.in_(ids))
        )
    }
    values = []
    for rid, message in failures:
        n = int(counts.get(rid) or 0) + 1
        backoff = min(interval_seconds * 2 ** min(n - 1, 16), max(MAX_BACKOFF_SECONDS, interval_seconds))
        values.append(
            {
                "_id": rid,
                "failures": n,
                "state": "stale" if n >= STALE_AFTER_FAILURES else "failing",
                "last_error": message,
                "last_sync_at": now,
                "next_sync_at": now + timedelta(seconds=backoff),
                "claimed_by": None,
                "claim_expires_at": None,
            }
        )
    conn.execute(update(repositories).where(repositories.c.id == bindparam("_id")), values)
    conn.execute(delete(problems).where(problems.c.repository_id.in_(ids), problems.c.category == "fetch"))
    conn.execute(
        insert(problems),
        [
            {"repository_id": rid, "category": "fetch", "severity": "error", "message": message}
            for rid, message in failures
        ],
    )


def start_run(conn: Connection, worker: str, now: datetime) -> int:
    """Record that a pass began, so a pass that dies shows as never finished."""
    return int(
        conn.execute(
            insert(sync_runs)
            .values(worker=worker, started_at=now, heartbeat_at=now, result="running")
            .returning(sync_runs.c.id)
        ).scalar_one()
    )


def delete_run(conn: Connection, run_id: int) -> None:
    """Forget a run that did nothing (the worker loop's poll when no repository was due)."""
    conn.execute(delete(sync_runs).where(sync_runs.c.id == run_id))


def finish_run(
    conn: Connection,
    run_id: int,
    *,
    now: datetime,
    result: str,
    counts: dict[str, Any],
    duration: float,
    message: str | None = None,
) -> None:
    """Record a pass's outcome and counts for ``GET /api/sync/runs``; the message is stored redacted."""
    conn.execute(
        update(sync_runs)
        .where(sync_runs.c.id == run_id)
        .values(
            finished_at=now,
            result=result,
            duration_seconds=duration,
            message=fit(sync_runs.c.message, redact(message)) if message else message,
            repositories=counts.get("repositories", 0),
            changed=counts.get("changed", 0),
            unchanged=counts.get("unchanged", 0),
            errors=counts.get("errors", 0),
        )
    )


def count_problems(conn: Connection, category: str | None = None) -> int:
    """How many problems of a category the catalog holds (for summaries and metrics)."""
    stmt = select(func.count()).select_from(problems)
    if category:
        stmt = stmt.where(problems.c.category == category)
    return int(conn.execute(stmt).scalar_one())


def repository_previous(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each repository's last descriptor blobs and change times, so unchanged files cost nothing."""
    out: dict[int, dict[str, Any]] = {rid: {"blobs": {}, "changed": {}} for rid in ids}
    if not ids:
        return out
    for row in conn.execute(select(descriptor_files).where(descriptor_files.c.repository_id.in_(list(ids)))):
        out[row.repository_id]["blobs"][row.path] = row.blob_sha
        if row.last_changed_at is not None:
            out[row.repository_id]["changed"][row.path] = row.last_changed_at
    return out


def load_facts(raw: str | None) -> dict[str, Any]:
    """The repository facts column, decoded."""
    return dict(json.loads(raw)) if raw else {}
