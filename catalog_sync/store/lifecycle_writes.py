"""What a change of a repository itself writes (deleted, archived, unarchived, moved, edited), and a
source's listing asked for by a delivery: the writes ``deliveries.decide`` chose, run in the delivery's
transaction once its id is known to be new.

A listing request is written before any repository row, in the order a listing being recorded locks
them (its source's row, then its repositories'), so a delivery and a listing never wait for each
other in a cycle.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, select, update

from catalog_sync.store.limits import too_long
from catalog_sync.store.tables import entities, repositories, sources
from catalog_sync.store.webhook_events import ACCEPTED, IGNORED, DeliveryOutcome, Lifecycle
from catalog_sync.store.writer import orphan_entities

Write = Callable[[Connection], None]
"""The writes a delivery's decision makes, run only once its id is known to be new."""


def listing_asked(names: Sequence[str], received: datetime) -> Write:
    """Mark the sources ``names`` to be listed at the next pass. A mark already set is written over:
    a listing clears only the mark it read when it started (``clear_listing_request``), and one that
    started before this push may have read the host's pages before the repository existed, so the
    request must outlive it."""
    statement = update(sources).where(sources.c.name.in_(sorted(names))).values(listing_requested_at=received)

    def write(conn: Connection) -> None:
        conn.execute(statement)

    return write


def holders_then_reach(holders: Sequence[str], reach: Sequence[str], received: datetime) -> Write:
    """Ask the sources holding a repository (``holders``) to list, and then those whose reach it has
    entered (``reach``: transferred to another configured owner, renamed or given topics into another
    source's filters). The latter are asked a microsecond later, and requested listings run in the
    order of their requests: a source lists a repository another holds only once the holder's listing
    has missed it (``listing._move_transferred``), so the holder must list first. The rows are
    written in the order of their names, as every delivery writes them, so two deliveries moving
    repositories opposite ways never wait for each other in a cycle."""
    later = received + timedelta(microseconds=1)
    marks = {name: later for name in reach} | {name: received for name in holders}
    statements = [
        update(sources).where(sources.c.name == name).values(listing_requested_at=marks[name])
        for name in sorted(marks)
    ]

    def write(conn: Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return write


def lifecycle(
    rows: Sequence[Row[Any]], change: Lifecycle, received: datetime, keeping_archived: frozenset[str]
) -> tuple[DeliveryOutcome, Write | None]:
    """Deleted and archived repositories are removed with their entities orphaned (never deleted);
    unarchived ones come back (through their sources' listing, asked for now) and are read; moved ones
    keep their key, entities and history; edited ones (another default branch, other topics) have
    their sources listed at once."""
    if change.change == "archived":
        kept = [row for row in rows if row.source in keeping_archived]
        rows = [row for row in rows if row.source not in keeping_archived]
        if kept and not rows:
            return DeliveryOutcome(IGNORED, "the source lists archived repositories (archived: true)"), None
    ids = [row.id for row in rows]
    holders = tuple(sorted({row.source for row in rows}))
    if change.change == "edited":  # its sources list it again at once: its branch, their filters' verdict
        listing = tuple(sorted({*holders, *change.listed_by}))
        return DeliveryOutcome(
            ACCEPTED, repository_ids=tuple(ids), woke=True, listing=listing
        ), holders_then_reach(holders, change.listed_by, received)
    if change.change == "unarchived":
        return _unarchived(rows, received)
    accepted = DeliveryOutcome(ACCEPTED, repository_ids=tuple(ids))
    if change.change in ("deleted", "archived"):

        def remove(conn: Connection) -> None:
            conn.execute(
                update(repositories)
                .where(repositories.c.id.in_(ids))
                .values(removed_at=received, claimed_by=None, claim_expires_at=None, pushed_commit=None)
            )
            held = conn.execute(select(entities.c.id).where(entities.c.repository_id.in_(ids))).scalars()
            orphan_entities(conn, list(held), received)

        return accepted, remove
    if change.change == "moved" and change.old_path and change.new_path:
        old, new = change.old_path, change.new_path
        # The sources list again, so the next read names the new URL in its entities' locations; one
        # whose reach it entered (another configured owner) takes it over from its holder.
        ask = holders_then_reach(holders, change.listed_by, received)

        def move(conn: Connection) -> None:
            ask(conn)  # first: a listing being recorded locks its source's row, then its repositories'
            for row in rows:
                _move(conn, row, old, new)

        listing = tuple(sorted({*holders, *change.listed_by}))
        return DeliveryOutcome(ACCEPTED, repository_ids=tuple(ids), woke=True, listing=listing), move
    return DeliveryOutcome(IGNORED, f"the change {change.change!r} leaves the catalog as it is"), None


def _unarchived(rows: Sequence[Row[Any]], received: datetime) -> tuple[DeliveryOutcome, Write]:
    """An unarchived repository is read again at once. One removed when it was archived is brought
    back by its sources' listing, asked for now (``listing_asked``): the listing kept between passes
    may have left it out as archived, and a repository read against a listing that lacks it fails
    as one its source no longer lists. One still held (a source keeping archived repositories) is
    made due now."""
    held = [row.id for row in rows if row.removed_at is None]
    listing = tuple(sorted({row.source for row in rows if row.removed_at is not None}))
    ask = listing_asked(listing, received) if listing else None

    def bring_back(conn: Connection) -> None:
        if ask is not None:  # first, in the order a listing being recorded locks the rows
            ask(conn)
        if held:
            conn.execute(
                update(repositories)
                .where(repositories.c.id.in_(held))
                .values(rescan=True, next_sync_at=received)
            )

    ids = tuple(row.id for row in rows)
    return DeliveryOutcome(ACCEPTED, repository_ids=ids, woke=True, listing=listing), bring_back


def _move(conn: Connection, row: Row[Any], old: str, new: str) -> None:
    """Follow a rename or a transfer in the name and URL shown, keeping the key (the host's id)."""
    name = moved(row.name, old, new)
    url = moved(row.url, old, new)
    values: dict[str, Any] = {}
    if name != row.name and too_long(repositories.c.name, name, "name") is None:
        values["name"] = name
    if url != row.url and too_long(repositories.c.url, url, "url") is None:
        values["url"] = url
        values["rescan"] = True  # its entities' locations name the URL: read again after the listing
    if values:
        conn.execute(update(repositories).where(repositories.c.id == row.id).values(**values))


def moved(value: str, old: str, new: str) -> str:
    """``value`` with the path ``old`` replaced by ``new`` where it stands as a whole path (at the end,
    or before ``.git`` or ``/``), matched without regard to case as the hosts do; else unchanged."""
    if value.lower() == old.lower():
        return new
    pattern = re.compile(r"(?<=[/:])" + re.escape(old) + r"(?=(\.git)?/?$)", re.IGNORECASE)
    return pattern.sub(lambda _m: new, value, count=1)
