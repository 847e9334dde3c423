"""Recording what each source lists: new repositories, returning ones, and the removals reconcile decided.

Whether a listing may remove anything is decided by ``reconcile.decide_removal`` from the repositories
read here (``listed_repositories``); ``record_discovery`` applies that decision, in the caller's
transaction, so the listing it judged is the one it changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from catalog_sync.plans import ListedRepository, RemovalDecision
from catalog_sync.sources.base import RepositoryInfo
from catalog_sync.sources.registered import REGISTERED_SOURCE, RegisteredRepository
from catalog_sync.sources.urls import redact
from catalog_sync.store.repos import insert_new
from catalog_sync.store.tables import entities, problems, repositories, sources
from catalog_sync.store.writer import orphan_entities


def find_source(conn: Connection, name: str) -> int | None:
    """The id of a source row, or None when it was never created (nothing registered yet, say)."""
    found = conn.execute(select(sources.c.id).where(sources.c.name == name)).scalar()
    return int(found) if found is not None else None


def listed_repositories(conn: Connection, source_id: int) -> list[ListedRepository]:
    """The repositories the catalog holds for a source and has not removed."""
    rows = conn.execute(
        select(repositories.c.id, repositories.c.key).where(
            repositories.c.source_id == source_id, repositories.c.removed_at.is_(None)
        )
    )
    return [ListedRepository(row.id, row.key) for row in rows]


def registered_repositories(conn: Connection) -> list[RegisteredRepository]:
    """Every repository registered through the API and not removed."""
    rows = conn.execute(
        select(repositories.c.id, repositories.c.key, repositories.c.url, repositories.c.branch)
        .select_from(repositories.join(sources, repositories.c.source_id == sources.c.id))
        .where(sources.c.name == REGISTERED_SOURCE, repositories.c.removed_at.is_(None))
        .order_by(repositories.c.id)
    )
    return [RegisteredRepository(row.id, row.key, row.url, row.branch) for row in rows]


def record_discovery(
    conn: Connection,
    source_id: int,
    found: Sequence[RepositoryInfo],
    decision: RemovalDecision,
    *,
    now: datetime,
) -> None:
    """Add new repositories, bring back returning ones, and apply the removal decision.

    A refused removal is recorded on the source and as a ``removal`` problem of each repository it
    kept; a removal orphans the removed repositories' entities (kept, and marked).
    """
    refused = redact(decision.refused) if decision.refused else None
    conn.execute(
        delete(problems).where(
            problems.c.category == "removal",
            problems.c.repository_id.in_(
                select(repositories.c.id).where(repositories.c.source_id == source_id).scalar_subquery()
            ),
        )
    )
    if refused and decision.kept_ids:
        conn.execute(
            insert(problems),
            [
                {"repository_id": rid, "category": "removal", "severity": "error", "message": refused}
                for rid in decision.kept_ids
            ],
        )
    if decision.removed_ids:
        removed = list(decision.removed_ids)
        conn.execute(
            update(repositories)
            .where(repositories.c.id.in_(removed))
            .values(removed_at=now, claimed_by=None, claim_expires_at=None)
        )
        ids = conn.execute(select(entities.c.id).where(entities.c.repository_id.in_(removed))).scalars()
        orphan_entities(conn, list(ids), now)
    _add_and_update(conn, source_id, found)
    conn.execute(
        update(sources)
        .where(sources.c.id == source_id)
        .values(last_repository_count=len(found), last_discovery_at=now, last_error=refused)
    )


def _add_and_update(conn: Connection, source_id: int, found: Sequence[RepositoryInfo]) -> None:
    """Insert new repositories, bring back removed ones that are listed again, follow renames."""
    rows = conn.execute(
        select(
            repositories.c.id,
            repositories.c.key,
            repositories.c.removed_at,
            repositories.c.name,
            repositories.c.url,
            repositories.c.branch,
        ).where(repositories.c.source_id == source_id)
    ).all()
    existing = {r.key: r for r in rows}
    new_rows = []
    returning: list[dict[str, Any]] = []
    renamed: list[dict[str, Any]] = []
    for info in found:
        known = existing.get(info.key)
        if known is None:
            new_rows.append(
                {
                    "source_id": source_id,
                    "key": info.key,
                    "name": info.name,
                    "url": info.url,
                    "branch": info.branch,
                    "state": "pending",
                    "failures": 0,
                    "rescan": False,
                }
            )
        elif known.removed_at is not None:
            returning.append(
                {
                    "_id": known.id,
                    "name": info.name,
                    "url": info.url,
                    "branch": info.branch,
                    "removed_at": None,
                    "rescan": True,
                }
            )
        elif (known.name, known.url, known.branch) != (info.name, info.url, info.branch):
            renamed.append({"_id": known.id, "name": info.name, "url": info.url, "branch": info.branch})
    insert_new(conn, repositories, new_rows, ["source_id", "key"])
    for changes in (returning, renamed):
        if changes:
            conn.execute(update(repositories).where(repositories.c.id == bindparam("_id")), changes)


def record_source_failure(conn: Connection, source_id: int, message: str, now: datetime) -> None:
    """A source that cannot list its repositories keeps them all; the error is shown on the source,
    stored redacted."""
    conn.execute(
        update(sources)
        .where(sources.c.id == source_id)
        .values(last_error=redact(message), last_discovery_at=now)
    )
