"""A group of push deliveries written together (``deliveries.record_plain``) leaves each repository as
the same deliveries recorded one by one would: the last push's commit is read next, the repository is
due from the last delivery, and a push waits from the first push still unread. On SQLite and
PostgreSQL, with the group's repositories written in one statement and locked in id order."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from psycopg.errors import LockNotAvailable
from sqlalchemy import Connection, Engine, event, insert, select, text, update
from sqlalchemy.exc import OperationalError

from catalog_sync.store.deliveries import decide, record_plain, remember
from catalog_sync.store.tables import repositories, sources
from catalog_sync.store.webhook_events import (
    ACCEPTED,
    DUPLICATE,
    Delivery,
    DeliveryOutcome,
    HostRepository,
    Push,
)

HOST = "api.github.com"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
A, B, C = "a" * 40, "b" * 40, "c" * 40


@dataclass(frozen=True)
class Waiting:
    """What a repository shows of the pushes it was sent."""

    next_sync_at: datetime | None
    pushed_commit: str | None
    pushed_at: datetime | None


def catalog(engine: Engine, count: int, prefix: str = "") -> list[int]:
    """``count`` repositories of one GitHub source, tracking ``main``; their ids, by host id."""
    with engine.begin() as conn:
        source = conn.execute(
            insert(sources).values(name=f"acme{prefix}", type="github").returning(sources.c.id)
        ).scalar_one()
        made = conn.execute(
            insert(repositories).returning(repositories.c.id, repositories.c.key),
            [
                {
                    "source_id": source,
                    "key": f"github:{HOST}:{prefix}{n}",
                    "name": f"r{n}",
                    "url": f"https://github.com/acme/r{n}",
                    "branch": "main",
                }
                for n in range(count)
            ],
        ).all()
    by_key = {key: id_ for id_, key in made}
    return [by_key[f"github:{HOST}:{prefix}{n}"] for n in range(count)]


def push(host_id: str, delivery: str, seconds: int, commit: str | None, branch: str = "main") -> Delivery:
    """A push to ``branch`` (deleting it when ``commit`` is None) received ``seconds`` after T0."""
    action = Push(HostRepository("github", host_id, HOST), branch, "main", commit)
    return Delivery("github", delivery, "push", T0 + timedelta(seconds=seconds), action)


def record(engine: Engine, group: list[Delivery]) -> list[DeliveryOutcome]:
    with engine.begin() as conn:
        return record_plain(conn, group)


def record_one_by_one(engine: Engine, group: list[Delivery]) -> list[str]:
    """The same deliveries recorded each in its turn, as a lone delivery is; what each did."""
    results = []
    with engine.begin() as conn:
        for delivery in group:
            outcome, write = decide(conn, delivery, frozenset())
            if not remember(conn, delivery, outcome):
                results.append(DUPLICATE)
                continue
            results.append(outcome.result)
            if write is not None:
                write(conn)
    return results


def utc(value: datetime | None) -> datetime | None:
    """A timestamp as either database gives it back (SQLite without a zone, in UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def shown(engine: Engine, ids: list[int]) -> list[Waiting]:
    with engine.connect() as conn:
        found = {
            row.id: Waiting(utc(row.next_sync_at), row.pushed_commit, utc(row.pushed_at))
            for row in conn.execute(
                select(
                    repositories.c.id,
                    repositories.c.next_sync_at,
                    repositories.c.pushed_commit,
                    repositories.c.pushed_at,
                ).where(repositories.c.id.in_(ids))
            )
        }
    return [found[i] for i in ids]


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_two_pushes_in_a_group_read_the_last_commit_and_wait_from_the_first(store_engine: Engine) -> None:
    pay, shop = catalog(store_engine, 2)
    outcomes = record(store_engine, [push("0", "d1", 0, A), push("1", "d2", 1, C), push("0", "d3", 5, B)])
    assert [o.result for o in outcomes] == [ACCEPTED] * 3
    assert shown(store_engine, [pay, shop]) == [Waiting(at(5), B, at(0)), Waiting(at(1), C, at(1))]


def test_a_push_then_a_branch_deletion_leave_nothing_waiting(store_engine: Engine) -> None:
    (pay,) = catalog(store_engine, 1)
    record(store_engine, [push("0", "d1", 0, A), push("0", "d2", 5, None)])
    assert shown(store_engine, [pay]) == [Waiting(at(5), None, None)]


def test_a_branch_deletion_then_a_push_wait_from_that_push(store_engine: Engine) -> None:
    """A push waiting from before the group was forgotten with the branch: the wait starts again."""
    (pay,) = catalog(store_engine, 1)
    record(store_engine, [push("0", "earlier", -60, A)])
    record(store_engine, [push("0", "d1", 0, None), push("0", "d2", 5, B), push("0", "d3", 9, C)])
    assert shown(store_engine, [pay]) == [Waiting(at(9), C, at(5))]


def test_a_push_still_waiting_from_an_earlier_group_keeps_its_time(store_engine: Engine) -> None:
    pay, shop = catalog(store_engine, 2)
    record(store_engine, [push("0", "earlier", -60, A)])
    record(store_engine, [push("0", "d1", 0, B), push("1", "d2", 3, C)])
    assert shown(store_engine, [pay, shop]) == [Waiting(at(0), B, at(-60)), Waiting(at(3), C, at(3))]


@contextmanager
def updates_of_repositories(engine: Engine) -> Iterator[list[bool]]:
    """Whether each UPDATE of ``repositories`` sent to the database was a batch (executemany)."""
    sent: list[bool] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, many: bool) -> None:
        if statement.lstrip().startswith(("UPDATE repositories", "WITH")):
            sent.append(many)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_a_group_naming_many_repositories_writes_them_all_in_one_statement(store_engine: Engine) -> None:
    """Three pushes each to 120 repositories, named out of order: every repository gets its own last
    commit and first time, in one execution of one statement."""
    ids = catalog(store_engine, 120)
    order = list(range(120))
    random.Random(3).shuffle(order)
    group = [push(str(n), f"d{k}-{n}", 10 * k + n % 7, f"{k}{n:039x}") for k in range(3) for n in order]
    with updates_of_repositories(store_engine) as sent:
        outcomes = record(store_engine, group)
    assert [o.result for o in outcomes] == [ACCEPTED] * len(group)
    assert sent == [False]
    assert shown(store_engine, ids) == [Waiting(at(20 + n % 7), f"2{n:039x}", at(n % 7)) for n in range(120)]


@pytest.mark.parametrize("seed", range(4))
def test_a_group_leaves_repositories_as_if_recorded_one_by_one(store_engine: Engine, seed: int) -> None:
    """Random groups of pushes, branch deletions, pushes to other branches and repeated deliveries,
    over repositories with and without a push waiting: recorded together and recorded in turn (on a
    copy of the same repositories), they leave the same commits and times."""
    rng = random.Random(seed)
    together, in_turn = catalog(store_engine, 8), catalog(store_engine, 8, prefix="x")
    earlier = [(rng.choice([None, A]), rng.choice([None, at(-600)]), at(-30)) for _ in range(8)]
    with store_engine.begin() as conn:
        for ids in (together, in_turn):
            for n, (commit, pushed_at, due) in enumerate(earlier):
                conn.execute(
                    update(repositories)
                    .where(repositories.c.id == ids[n])
                    .values(pushed_commit=commit, pushed_at=pushed_at, next_sync_at=due)
                )
    plan = []
    for k in range(40):
        n = rng.randrange(8)
        kind = rng.random()
        commit = None if kind < 0.25 else f"{k:040x}"
        branch = "feature" if 0.9 < kind < 0.95 else "main"
        delivery = f"d{rng.randrange(k + 1)}" if kind >= 0.95 else f"d{k}"  # now and then a repeated id
        plan.append((n, delivery, rng.randrange(-30, 300), commit, branch))
    outcomes = record(store_engine, [push(str(n), d, s, c, b) for n, d, s, c, b in plan])
    results = record_one_by_one(store_engine, [push(f"x{n}", f"x{d}", s, c, b) for n, d, s, c, b in plan])
    assert [o.result for o in outcomes] == results
    assert shown(store_engine, together) == shown(store_engine, in_turn)


@pytest.mark.postgres
def test_a_group_locks_its_repositories_in_id_order(pg_engine: Engine) -> None:
    """Two groups naming the same repositories in different orders cannot wait for each other in a
    cycle: each takes its row locks in id order. Held up at the second repository, a group holds the
    first and has not touched the third, though its deliveries named the third first."""
    first, second, third = catalog(pg_engine, 3)
    group = [push("2", "d1", 0, A), push("1", "d2", 1, A), push("0", "d3", 2, A)]
    with pg_engine.connect() as holder, pg_engine.connect() as probe:
        holder.execute(select(repositories.c.id).where(repositories.c.id == second).with_for_update())
        writer = threading.Thread(target=record, args=(pg_engine, group))
        writer.start()
        try:
            wait_for_a_lock_wait(probe)
            assert not can_lock(probe, first)
            assert can_lock(probe, third)
        finally:
            holder.rollback()
            writer.join(timeout=30)
    assert shown(pg_engine, [first, second, third]) == [
        Waiting(at(2), A, at(2)),
        Waiting(at(1), A, at(1)),
        Waiting(at(0), A, at(0)),
    ]


def wait_for_a_lock_wait(conn: Connection) -> None:
    """Until another session of the database waits for a row lock."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
        conn.rollback()
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the group never waited for the held repository")


def can_lock(conn: Connection, repository: int) -> bool:
    """Whether the repository's row is free to lock now (the lock is let go at once)."""
    try:
        conn.execute(text("SELECT id FROM repositories WHERE id = :id FOR UPDATE NOWAIT"), {"id": repository})
    except OperationalError as error:
        conn.rollback()
        if not isinstance(error.orig, LockNotAvailable):
            raise
        return False
    conn.rollback()
    return True
