"""The SQL of a webhook delivery: remember its id, apply what it asks, wake the workers, forget old ids.

Every function runs on the connection of the delivery's one transaction (``webhook_store``). What a
push or a lifecycle event changes is decided here, beside the rows it changes, so no caller can make a
repository due without recording its pushed commit, or remove one without orphaning its entities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Connection, Row, Select, bindparam, case, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from catalog_sync.store.delivery_rows import find_keyed, insert_new
from catalog_sync.store.lifecycle_writes import Write, lifecycle, listing_asked
from catalog_sync.store.pg_wakeup import CHANNEL
from catalog_sync.store.push_groups import Pushed, collapse, write_pushes
from catalog_sync.store.tables import repositories, sources, webhook_deliveries
from catalog_sync.store.webhook_events import (
    ACCEPTED,
    DUPLICATE,
    IGNORED,
    Action,
    Created,
    Delivery,
    DeliveryOutcome,
    GroupMoved,
    HostRepository,
    Lifecycle,
    ListingOnly,
    Push,
)

UNKNOWN_REPOSITORY = "no repository of the catalog has this id on this host (no source lists it)"
UNKNOWN_GROUP = "no gitlab source of this host lists this group, one of its parents or its subgroups"
UNKNOWN_INSTALLATION = "no github source of this host is authenticated as this app installation"
LISTED_ALREADY = "a source lists this repository already"
AMBIGUOUS_REPOSITORY = (
    "the delivery names no host and several sources list a repository with this id; "
    "use a project hook, whose deliveries name the host"
)


_DECIDED = ("event", "result", "repository_id", "received_at")


def _remembering(insert: Any) -> Any:
    """Insert the delivery's row; over a row of the same id only when that delivery was ignored."""
    stmt = insert(webhook_deliveries)
    return stmt.on_conflict_do_update(
        index_elements=["provider", "delivery_id"],
        set_={column: stmt.excluded[column] for column in _DECIDED},
        where=webhook_deliveries.c.result == IGNORED,
    ).returning(webhook_deliveries.c.provider, webhook_deliveries.c.delivery_id)


_REMEMBER = {"postgresql": _remembering(pg_insert), "sqlite": _remembering(sqlite_insert)}
"""Built once: a statement object keeps its cache key, so running it again costs no construction and
no compilation, only the bound values (the row's columns are named by the values passed). A group's
ids are inserted by ``delivery_rows.insert_new`` instead, in one statement whatever their number.

A delivery that was ignored changed nothing, so its id is no reason to ignore it again: a redelivery
(from the host's settings, once the repository is in the catalog) is decided anew and written over it."""
_NOTIFY = text("SELECT pg_notify(:channel, '')")


def remember(conn: Connection, delivery: Delivery, outcome: DeliveryOutcome) -> bool:
    """Store the delivery's id with what it does; False when it was stored before (a redelivery, a
    replay) and not ignored then, and then nothing of it may be applied."""
    return conn.execute(_REMEMBER[conn.dialect.name], _stored_row(delivery, outcome)).first() is not None


def _stored_row(delivery: Delivery, outcome: DeliveryOutcome) -> dict[str, Any]:
    return {
        "provider": delivery.provider,
        "delivery_id": delivery.delivery_id,
        "event": delivery.event,
        "result": outcome.result,
        "repository_id": outcome.repository_ids[0] if outcome.repository_ids else None,
        "received_at": delivery.received_at,
    }


def notify_workers(conn: Connection) -> None:
    """Wake the workers listening on PostgreSQL; the notification leaves when this transaction
    commits, never before (a worker woken early would find nothing due). SQLite workers poll."""
    if conn.dialect.name == "postgresql":
        conn.execute(_NOTIFY, {"channel": CHANNEL})


def prune(conn: Connection, before: datetime) -> int:
    """Forget deliveries received before ``before``; answers how many."""
    result = conn.execute(delete(webhook_deliveries).where(webhook_deliveries.c.received_at < before))
    return int(result.rowcount or 0)


def decide(
    conn: Connection, delivery: Delivery, keeping_archived: frozenset[str]
) -> tuple[DeliveryOutcome, Write | None]:
    """What the delivery does to the repositories it names, and the writes that do it (not yet run:
    a duplicate must change nothing)."""
    action = delivery.action
    if delivery.ignored is not None:
        return DeliveryOutcome(IGNORED, delivery.ignored), None
    if action is None:
        return DeliveryOutcome(ACCEPTED), None
    if isinstance(action, ListingOnly):
        if not action.listed_by:
            unknown = UNKNOWN_GROUP if isinstance(action, GroupMoved) else UNKNOWN_INSTALLATION
            return DeliveryOutcome(IGNORED, unknown), None
        return newcomer(action), listing_asked(action.listed_by, delivery.received_at)
    bring_back = isinstance(action, Lifecycle) and action.change == "unarchived"
    rows = find(conn, action.repository, include_removed=bring_back)
    if rows == UNKNOWN_REPOSITORY:
        outcome = newcomer(action)
        return outcome, listing_asked(outcome.listing, delivery.received_at) if outcome.listing else None
    if isinstance(rows, str):
        return DeliveryOutcome(IGNORED, rows), None
    if isinstance(action, Created):
        return DeliveryOutcome(IGNORED, LISTED_ALREADY), None
    if isinstance(action, Push):
        action = tracked_change(rows, action)
        outcome = _push(rows, action)
        if outcome.listing:  # a branch that became the default since the listing
            return outcome, listing_asked(outcome.listing, delivery.received_at)
        ids = outcome.repository_ids
        return outcome, _pushed(ids, action.commit, delivery.received_at) if ids else None
    return lifecycle(rows, action, delivery.received_at, keeping_archived)


def _find_statement(*, include_removed: bool, by_pattern: bool) -> Select[Any]:
    """The repositories with the key ``:key`` (or, ``by_pattern``, whose key is like ``:key``): the
    equality is answered from the index on ``repositories.key``."""
    stmt = select(
        repositories.c.id,
        repositories.c.key,
        repositories.c.name,
        repositories.c.url,
        repositories.c.branch,
        repositories.c.removed_at,
        sources.c.name.label("source"),
    ).join(sources, repositories.c.source_id == sources.c.id)
    key = bindparam("key", type_=repositories.c.key.type)
    stmt = stmt.where(repositories.c.key.like(key) if by_pattern else repositories.c.key == key)
    if not include_removed:
        stmt = stmt.where(repositories.c.removed_at.is_(None))
    return stmt.order_by(repositories.c.id)


_FIND = {
    (removed, pattern): _find_statement(include_removed=removed, by_pattern=pattern)
    for removed in (False, True)
    for pattern in (False, True)
}


def find(conn: Connection, named: HostRepository, *, include_removed: bool) -> list[Any] | str:
    """The repository rows a delivery names (one per source listing it), or why there are none."""
    by_pattern = named.key is None
    key = f"{named.provider}:%:{named.host_id}" if named.key is None else named.key
    rows = list(conn.execute(_FIND[(include_removed, by_pattern)], {"key": key}).all())
    if not rows:
        return UNKNOWN_REPOSITORY
    if len({row.key for row in rows}) > 1:
        return AMBIGUOUS_REPOSITORY
    return rows


_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_DUE_AT = bindparam("due_at", type_=repositories.c.next_sync_at.type)
_WAITING = repositories.c.pushed_commit.is_not(None) & repositories.c.pushed_at.is_not(None)
_PUSHED = (
    update(repositories)
    .where(repositories.c.id == bindparam("repository"))
    .values(
        next_sync_at=_DUE_AT,
        pushed_commit=bindparam("commit", type_=repositories.c.pushed_commit.type),
        # The earliest push still waiting keeps its time: push-to-visible is measured from the first.
        pushed_at=case((_WAITING, repositories.c.pushed_at), else_=_DUE_AT),
    )
)
_BRANCH_DELETED = (
    update(repositories)
    .where(repositories.c.id == bindparam("repository"))
    .values(next_sync_at=_DUE_AT, pushed_commit=None, pushed_at=None)
)
"""One repository each, run for every repository a push delivered alone names (one batch of
executions, not one statement per repository). A group's pushes are collapsed to one row per
repository instead (``push_groups``), which leaves each repository as these would in turn."""


def tracked_change(rows: Sequence[Row[Any]], push: Push) -> Push:
    """The push of the first branch among the push's own and ``also`` that a repository row tracks
    (the push itself when none does): two sources reading the project on two branches pushed at once
    keep one row, on the branch of the source that listed it first."""
    tracked = {row.branch or push.default_branch for row in rows}
    if push.branch in tracked:
        return push
    branch, commit = next(((b, c) for b, c in push.also if b in tracked), (push.branch, push.commit))
    return replace(push, branch=branch, commit=commit)


def _push(rows: Sequence[Row[Any]], push: Push) -> DeliveryOutcome:
    """A push to the tracked branch makes the repository due now, to be read at the pushed commit;
    the repositories to write are those the outcome names. A push to a branch that became the default
    since the listing asks the sources that would read it (``listed_by``) to list at once."""
    if push.branch is None:
        return DeliveryOutcome(IGNORED, "the push is to a ref that is not a branch (a tag, say)")
    tracked = [row for row in rows if (row.branch or push.default_branch) == push.branch]
    if not tracked and push.listed_by:
        # A source that reads each repository's default branch would read this one: the host's default
        # changed since the listing (renamed, or set by the first push to an empty repository). The
        # listing that brings the new branch reads the push.
        return DeliveryOutcome(ACCEPTED, woke=True, listing=push.listed_by)
    if not tracked:
        followed = sorted({row.branch or push.default_branch or "its default branch" for row in rows})
        reason = f"the push is to branch {push.branch!r}; the catalog reads {', '.join(followed)}"
        return DeliveryOutcome(IGNORED, reason)
    return DeliveryOutcome(ACCEPTED, repository_ids=tuple(row.id for row in tracked), woke=True)


def newcomer(action: Action) -> DeliveryOutcome:
    """A delivery naming a repository the catalog holds under no source: one created minutes ago, whose
    first content (from a template, say) should show as any other, or one moved or unarchived into a
    source's reach. The configured sources that would list it (``listed_by``, which the view leaves
    empty for a tag, a deleted branch, a deleted or archived repository) are asked to list at once,
    and the pass reads it once listed; with none, it is ignored."""
    if not action.listed_by:
        return DeliveryOutcome(IGNORED, UNKNOWN_REPOSITORY)
    return DeliveryOutcome(ACCEPTED, woke=True, listing=action.listed_by)


def _pushed(ids: Sequence[int], commit: str | None, received: datetime) -> Write:
    """The writes of a push delivered alone: ``commit`` None, the branch was deleted."""
    if commit is None:  # the tracked branch was deleted: the pass asks for the tip and says why
        statement, values = _BRANCH_DELETED, [{"repository": i, "due_at": received} for i in ids]
    else:
        statement, values = _PUSHED, [{"repository": i, "due_at": received, "commit": commit} for i in ids]

    def write(conn: Connection) -> None:
        conn.execute(statement, values)

    return write


def is_plain(delivery: Delivery) -> bool:
    """Whether ``record_plain`` may write the delivery: a ping, one already known to change nothing,
    or a push naming its host (the bulk of any load). Lifecycle changes are written one by one."""
    action = delivery.action
    return (
        delivery.ignored is not None
        or action is None
        or (isinstance(action, Push) and action.repository.key is not None)
    )


def record_plain(conn: Connection, group: Sequence[Delivery]) -> list[DeliveryOutcome]:
    """Record plain deliveries (``is_plain``) together, with the outcomes recording each in turn
    (``decide``, ``remember``, then its writes) would give: one read of every repository they name, one
    insert of their ids (a known id not ignored before, or one seen earlier in the group and not
    ignored there, is a duplicate), one update of
    the repositories their pushes name, a row each (each one's pushes collapsed, in the order they
    arrived, to what writing them in turn would leave: ``push_groups``). Pushes change nothing that
    decides another push, so deciding all first changes nothing.

    Ids are inserted in their order and repositories locked in theirs, so two processes writing groups
    at once take their locks in the same order and never wait for each other in a cycle."""
    keys = sorted(
        {d.action.repository.key for d in group if isinstance(d.action, Push) and d.action.repository.key}
    )
    named: dict[str, list[Any]] = defaultdict(list)
    if keys:
        for row in find_keyed(conn, keys):
            named[row.key].append(row)
    decided: list[DeliveryOutcome] = []
    group = list(group)
    for n, delivery in enumerate(group):
        action = delivery.action
        if delivery.ignored is not None:
            decided.append(DeliveryOutcome(IGNORED, delivery.ignored))
        elif not isinstance(action, Push):
            decided.append(DeliveryOutcome(ACCEPTED))
        elif not (rows := named.get(action.repository.key or "")):
            decided.append(newcomer(action))
        else:
            push = tracked_change(rows, action)
            group[n] = replace(delivery, action=push)
            decided.append(_push(rows, push))
    # The copies of an id that recording in turn would decide: the first, and each one after a copy
    # that was ignored (decided anew, as ``remember`` has it); the last of them is the row stored.
    decisive: set[int] = set()
    last: dict[tuple[str, str], int] = {}
    for n, delivery in enumerate(group):
        known = (delivery.provider, delivery.delivery_id)
        if known not in last or decided[last[known]].result == IGNORED:
            decisive.add(n)
            last[known] = n
    stored = insert_new(conn, [_stored_row(group[n], decided[n]) for _, n in sorted(last.items())])
    outcomes: list[DeliveryOutcome] = []
    pushed: dict[int, list[Pushed]] = defaultdict(list)
    listing: dict[str, datetime] = {}
    for n, delivery in enumerate(group):
        if n not in decisive or (delivery.provider, delivery.delivery_id) not in stored:
            outcomes.append(DeliveryOutcome(DUPLICATE))
            continue
        outcomes.append(decided[n])
        for name in decided[n].listing:
            listing.setdefault(name, delivery.received_at)
        if isinstance(delivery.action, Push):
            for repository in decided[n].repository_ids:
                pushed[repository].append(Pushed(delivery.received_at, delivery.action.commit))
    if listing:  # first: a listing being recorded locks its source's row, then its repositories'
        listing_asked(tuple(listing), max(listing.values()))(conn)
    write_pushes(conn, [collapse(repository, pushed[repository]) for repository in sorted(pushed)])
    return outcomes
