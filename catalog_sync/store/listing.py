"""Recording what each source lists: new repositories, returning ones, and the removals reconcile decided.

Whether a listing may remove anything is decided by ``reconcile.decide_removal`` from the repositories
read here (``listed_repositories``); ``record_discovery`` applies that decision, in the caller's
transaction, so the listing it judged is the one it changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, bindparam, delete, insert, select, update

from catalog_sync.plans import ListedRepository, RemovalDecision
from catalog_sync.sources.base import RepositoryInfo
from catalog_sync.sources.registered import REGISTERED_SOURCE, RegisteredRepository
from catalog_sync.sources.urls import redact
from catalog_sync.store.limits import REFUSED, fit, fits_plainly, too_long
from catalog_sync.store.repo_queries import utc
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
        select(repositories.c.id, repositories.c.key, repositories.c.missed_listings).where(
            repositories.c.source_id == source_id, repositories.c.removed_at.is_(None)
        )
    ).all()
    return [ListedRepository(row[0], row[1], row[2]) for row in rows]


def last_listed(conn: Connection, source_id: int) -> datetime | None:
    """The source's ``last_discovery_at`` as stored, read when a listing starts: ``listed_beside``
    compares it with the stored value when the listing is recorded. It is a mark, never compared with
    a clock: it was written by whichever worker recorded the last listing, with that host's clock."""
    return utc(conn.execute(select(sources.c.last_discovery_at).where(sources.c.id == source_id)).scalar())


def listed_beside(conn: Connection, source_id: int, seen: datetime | None) -> bool:
    """Whether another listing of the source was recorded since ``seen`` (``last_listed`` when this
    listing started) was read: the stored ``last_discovery_at`` is no longer exactly ``seen``. Stored
    values are compared, never clocks, so workers whose hosts' clocks differ still see each other's
    listings. The row stays locked (on PostgreSQL) until the transaction ends, so two workers
    recording listings take turns and the second sees the first."""
    recorded = conn.execute(
        select(sources.c.last_discovery_at).where(sources.c.id == source_id).with_for_update()
    ).scalar()
    return utc(recorded) != seen


def listing_requests(conn: Connection) -> dict[str, datetime]:
    """Each source a push asked to list, with the mark of the latest request (``deliveries.newcomer``):
    the listing hands it back to ``clear_listing_request``."""
    rows = conn.execute(
        select(sources.c.name, sources.c.listing_requested_at).where(
            sources.c.listing_requested_at.is_not(None)
        )
    )
    return {row.name: at for row in rows if (at := utc(row.listing_requested_at)) is not None}


def clear_listing_request(conn: Connection, source_id: int, seen: datetime) -> None:
    """Clear the request when it is still the one the listing answered (compared as stored, never
    with a clock); one set meanwhile stays, and a later pass lists again."""
    stored = conn.execute(select(sources.c.listing_requested_at).where(sources.c.id == source_id)).scalar()
    if stored is not None and utc(stored) == seen:
        conn.execute(update(sources).where(sources.c.id == source_id).values(listing_requested_at=None))


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
) -> list[str]:
    """Add new repositories, bring back returning ones, and apply the removal decision.

    A refused removal is recorded on the source and as a ``removal`` problem of each repository it
    kept; a removal orphans the removed repositories' entities (kept, and marked). Answers why
    listed repositories were refused (a value longer than its column), also shown on the source.
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
    if decision.missed_ids:
        conn.execute(
            update(repositories)
            .where(repositories.c.id.in_(list(decision.missed_ids)))
            .values(missed_listings=repositories.c.missed_listings + 1)
        )
    if decision.removed_ids:
        removed = list(decision.removed_ids)
        conn.execute(
            update(repositories)
            .where(repositories.c.id.in_(removed))
            .values(removed_at=now, claimed_by=None, claim_expires_at=None, missed_listings=0)
        )
        ids = conn.execute(select(entities.c.id).where(entities.c.repository_id.in_(removed))).scalars()
        orphan_entities(conn, list(ids), now)
    refusals = _add_and_update(conn, source_id, found)
    errors = "; ".join(e for e in (refused, *refusals) if e) or None
    conn.execute(
        update(sources)
        .where(sources.c.id == source_id)
        .values(
            last_repository_count=len(found),
            last_discovery_at=now,
            last_error=fit(sources.c.last_error, errors),
        )
    )
    return refusals


def _add_and_update(conn: Connection, source_id: int, found: Sequence[RepositoryInfo]) -> list[str]:
    """Insert new repositories, bring back removed ones that are listed again, follow renames.

    A listed value longer than its column fails that repository alone (``stored_listing``); a key
    too long to store gives no row at all, and is answered, with the others refused, for the source.
    """
    existing = {r.key: r for r in _read_listed(conn, repositories.c.source_id == source_id)}
    moved = _move_transferred(conn, source_id, [i.key for i in found if i.key not in existing])
    existing.update(moved)
    new_rows = []
    returning: list[dict[str, Any]] = []
    renamed: list[dict[str, Any]] = []
    refusals: list[str] = []
    for info in found:
        known = existing.get(info.key)
        if (
            known is not None
            and known is not _HELD_ELSEWHERE
            and known.removed_at is None
            and not known.missed_listings
            and known.listing_error is None
            and (known.name, known.url, known.branch) == (info.name, info.url, info.branch)
        ):
            continue  # listed as stored: the values fitted when they were stored, nothing to do
        key_fits = fits_plainly(repositories.c.key, info.key)
        unstorable = None if key_fits else too_long(repositories.c.key, info.key, "repository key")
        if unstorable:
            refusals.append(f"repository {fit_label(info.key)}: {unstorable}")
            continue
        stored = stored_listing(info)
        if stored["listing_error"]:
            refusals.append(f"repository {info.key}: {stored['listing_error']}")
        if known is _HELD_ELSEWHERE:
            continue
        if known is None:
            new_rows.append(
                {"source_id": source_id, "key": info.key, "state": "pending", "failures": 0, "rescan": False}
                | stored
                | _refused_state(stored)
            )
        elif known.removed_at is not None:
            # Due at once: listed again (unarchived, restored), it is read in this pass.
            returning.append(
                {"_id": known.id, "removed_at": None, "rescan": True, "next_sync_at": None}
                | stored
                | _refused_state(stored)
            )
        elif (known.name, known.url, known.branch, known.listing_error) != tuple(stored.values()):
            fixed: dict[str, Any] = (
                {"next_sync_at": None} if known.listing_error and not stored["listing_error"] else {}
            )
            if (known.url, known.branch) != (stored["url"], stored["branch"]):
                # Its entities name their location by URL and branch (renamed, transferred, a default branch
                # renamed or set by the first push to an empty repository): read again now, at any commit.
                fixed = {"next_sync_at": None, "rescan": True}
            renamed.append({"_id": known.id, "missed_listings": 0} | stored | _refused_state(stored) | fixed)
        elif known.missed_listings:
            renamed.append({"_id": known.id, "missed_listings": 0})
    insert_new(conn, repositories, [{"last_error": None} | row for row in new_rows], ["source_id", "key"])
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in (*returning, *renamed):
        by_columns.setdefault(tuple(sorted(change)), []).append(change)
    for changes in by_columns.values():
        conn.execute(update(repositories).where(repositories.c.id == bindparam("_id")), changes)
    return refusals


def _read_listed(conn: Connection, *where: ColumnElement[bool]) -> Sequence[Row[*tuple[Any, ...]]]:
    """The stored columns a listing compares each listed repository with. A source's own rows and the
    rows ``_move_transferred`` takes from another source are read alike, so that a moved row is
    compared with its listing as if it had always been the source's."""
    return conn.execute(
        select(
            repositories.c.id,
            repositories.c.key,
            repositories.c.removed_at,
            repositories.c.name,
            repositories.c.url,
            repositories.c.branch,
            repositories.c.listing_error,
            repositories.c.missed_listings,
        ).where(*where)
    ).all()


HOSTED_KEY_PREFIXES = ("github:", "gitlab:")
"""Keys that name a repository by its hosting API's id: the same key in two sources is one repository."""


def _move_transferred(conn: Connection, source_id: int, keys: list[str]) -> dict[str, Any]:
    """Repositories a source lists for the first time that another source of the catalog holds by the
    same host id: a transfer between two configured owners. Once the other source's last listing
    missed it (or removed it), the row moves to this source, keeping its entities, their uids and
    history; while the other still lists it, it stays there and this listing leaves it out of its own
    rows (one repository is never held twice, which would make every entity a conflict)."""
    hosted = [k for k in keys if k.startswith(HOSTED_KEY_PREFIXES)]
    if not hosted:
        return {}
    rows = _read_listed(conn, repositories.c.key.in_(hosted), repositories.c.source_id != source_id)
    moved: dict[str, Any] = {}
    for row in rows:
        if row.removed_at is None and row.missed_listings == 0:
            moved[row.key] = _HELD_ELSEWHERE
            continue
        conn.execute(
            update(repositories)
            .where(repositories.c.id == row.id)
            .values(source_id=source_id, removed_at=None, missed_listings=0, rescan=True)
        )
        moved[row.key] = SimpleNamespace(**(row._asdict() | {"removed_at": None, "missed_listings": 0}))
    return moved


_HELD_ELSEWHERE = object()


def stored_listing(info: RepositoryInfo) -> dict[str, Any]:
    """A listed repository's name, URL and branch as stored, and why it fails when one does not fit.

    A value that does not fit is not stored (the branch) or is cut (the name and URL, which must be
    there): the repository is then failed at each pass without being read, until the source lists
    it with values that fit (``listing_error``), so no pass reads it under a branch it cannot show.
    """
    if (
        fits_plainly(repositories.c.branch, info.branch)
        and fits_plainly(repositories.c.url, info.url)
        and fits_plainly(repositories.c.name, info.name)
    ):
        return {"name": info.name, "url": info.url, "branch": info.branch, "listing_error": None}
    reasons = [
        reason
        for column, value in (
            (repositories.c.branch, info.branch),
            (repositories.c.url, info.url),
            (repositories.c.name, info.name),
        )
        if (reason := too_long(column, value, REFUSED[column]))
    ]
    branch_fits = too_long(repositories.c.branch, info.branch, "branch") is None
    return {
        "name": fit(repositories.c.name, info.name),
        "url": fit(repositories.c.url, info.url),
        "branch": info.branch if branch_fits else None,
        "listing_error": "; ".join(reasons) + " (the repository is not read)" if reasons else None,
    }


def _refused_state(stored: dict[str, Any]) -> dict[str, Any]:
    """A repository refused at listing shows as failing with the reason; a fixed one is read again."""
    if stored["listing_error"]:
        return {"state": "failing", "last_error": stored["listing_error"]}
    return {}


def fit_label(key: str) -> str:
    """A key too long to store, shortened for a message."""
    return key if len(key) <= 80 else key[:77] + "..."


def record_source_failure(conn: Connection, source_id: int, message: str, now: datetime) -> None:
    """A source that cannot list its repositories keeps them all; the error is shown on the source,
    stored redacted. ``last_discovery_at`` stays the time of the last listing recorded: a failure
    counts no missed listing, so it must not make another worker's listing meanwhile (``listed_beside``)
    count none either."""
    conn.execute(
        update(sources)
        .where(sources.c.id == source_id)
        .values(last_error=fit(sources.c.last_error, redact(message)))
    )
