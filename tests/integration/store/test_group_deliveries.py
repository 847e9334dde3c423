"""The delivery ids of a group (``deliveries.record_plain``) are stored in one statement, its rows
bound as one JSON text: every id and event name is stored as sent, whatever it holds; an id known
before, or seen earlier in the group, is a duplicate that changes nothing, unless it was ignored then
(decided anew, as a delivery recorded alone is); times are stored as a
delivery recorded alone stores them; on PostgreSQL ids are inserted in one order. On SQLite and
PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from psycopg.errors import LockNotAvailable
from sqlalchemy import Connection, Engine, event, insert, text
from sqlalchemy.exc import OperationalError

from catalog_sync.store.deliveries import remember
from catalog_sync.store.tables import repositories, sources
from catalog_sync.store.webhook_events import (
    ACCEPTED,
    DUPLICATE,
    IGNORED,
    Delivery,
    DeliveryOutcome,
    HostRepository,
    Push,
)
from tests.integration.store.test_group_pushes import (
    HOST,
    T0,
    A,
    B,
    C,
    Waiting,
    at,
    catalog,
    push,
    record,
    record_one_by_one,
    shown,
    wait_for_a_lock_wait,
)

STORED = text(
    "SELECT provider, delivery_id, event, result, repository_id, CAST(received_at AS TEXT) AS received"
    " FROM webhook_deliveries ORDER BY provider, delivery_id"
)


def stored(engine: Engine) -> list[tuple[Any, ...]]:
    """Every delivery row, its time as the text the database holds."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(STORED)]


def ping(delivery: str, event: str = "ping", received: datetime = T0) -> Delivery:
    return Delivery("github", delivery, event, received)


def test_an_id_known_before_and_one_repeated_in_the_group_are_duplicates_written_once(
    store_engine: Engine,
) -> None:
    """The known id was recorded alone, then both copies come again in one group with other commits:
    each copy is answered as a duplicate and neither its row nor its push is written again."""
    pay, shop = catalog(store_engine, 2)
    assert record_one_by_one(store_engine, [push("0", "known", 0, A)]) == [ACCEPTED]
    group = [
        push("1", "new", 10, B),
        push("0", "known", 11, C),
        push("1", "new", 12, C),
        push("1", "n2", 13, A),
    ]
    outcomes = record(store_engine, group)
    assert [o.result for o in outcomes] == [ACCEPTED, DUPLICATE, DUPLICATE, ACCEPTED]
    assert shown(store_engine, [pay, shop]) == [Waiting(at(0), A, at(0)), Waiting(at(13), A, at(10))]
    rows = stored(store_engine)
    assert [(row[1], row[4]) for row in rows] == [("known", pay), ("n2", shop), ("new", shop)]
    assert [o.result for o in record(store_engine, group)] == [DUPLICATE] * 4
    assert stored(store_engine) == rows


def test_a_copy_after_an_ignored_one_is_decided_anew_in_the_group_as_alone(store_engine: Engine) -> None:
    """An id first ignored (a push to another branch) and sent again within one group: the copy after
    it is decided anew, as recording them in turn would; the one after an accepted copy is a duplicate."""
    pay, _shop = catalog(store_engine, 2)
    assert record_one_by_one(store_engine, [push("0", "seen", 0, A, "feature")]) == [IGNORED]
    group = [
        push("0", "seen", 10, B, "feature"),
        push("0", "seen", 11, B),
        push("0", "seen", 12, C),
        push("1", "other", 13, A, "feature"),
    ]
    assert [o.result for o in record(store_engine, group)] == [IGNORED, ACCEPTED, DUPLICATE, IGNORED]
    assert shown(store_engine, [pay])[0].pushed_commit == B
    assert [(row[1], row[3]) for row in stored(store_engine)] == [("other", IGNORED), ("seen", ACCEPTED)]


HOSTILE_IDS = [
    'it\'s "quoted" `twice`',
    "back\\slash \\u0000 \\n \\\\ \\",
    "ünïcödé 日本語 😀 e\u0301 \u200b ﬁ",
    "x" * 199 + "😀",
    '{"delivery_id": "other", "n": [1, 2]}',
    '["github", "other", "push"]',
    "null",
    "123",
    "1e5",
    "  spaced  ",
    "'); DROP TABLE webhook_deliveries; --",
    "$.provider",
]
HOSTILE_EVENTS = ['push"; --', "é😀\\'", "e" * 64, "{}", "null", "Push Hook"]


def test_hostile_ids_and_event_names_are_stored_as_sent_and_known_again(store_engine: Engine) -> None:
    """Quotes, backslashes, JSON escapes, unicode beyond the BMP, JSON-looking or numeric text and
    ids of the column's full 200 characters are stored byte for byte; sent again, each is a
    duplicate."""
    group = [
        ping(delivery, HOSTILE_EVENTS[n % len(HOSTILE_EVENTS)], at(n))
        for n, delivery in enumerate(HOSTILE_IDS)
    ]
    assert [o.result for o in record(store_engine, group)] == [ACCEPTED] * len(group)
    with store_engine.connect() as conn:
        got = {(row.delivery_id, row.event) for row in conn.execute(STORED)}
    assert got == {(d.delivery_id, d.event) for d in group}
    assert len(HOSTILE_IDS[3]) == 200
    again = [ping(d.delivery_id, "ping", at(99)) for d in reversed(group)] + [ping("fresh")]
    assert [o.result for o in record(store_engine, again)] == [DUPLICATE] * len(group) + [ACCEPTED]


def test_a_push_finds_a_repository_whose_host_id_holds_quotes_and_unicode(store_engine: Engine) -> None:
    """The group's keys are bound as one JSON text: a host id with quotes, a backslash and unicode
    finds its own repository, and one differing only by the backslash finds none."""
    odd = 'a"b\\c,{d} 😀'
    with store_engine.begin() as conn:
        source = conn.execute(
            insert(sources).values(name="odd", type="github").returning(sources.c.id)
        ).scalar_one()
        repository = conn.execute(
            insert(repositories)
            .values(source_id=source, key=f"github:{HOST}:{odd}", name="odd", url="u", branch="main")
            .returning(repositories.c.id)
        ).scalar_one()
    outcomes = record(store_engine, [push(odd, "d1", 0, A), push(odd.replace("\\", ""), "d2", 1, B)])
    assert [(o.result, o.repository_ids) for o in outcomes] == [(ACCEPTED, (repository,)), (IGNORED, ())]
    assert shown(store_engine, [repository]) == [Waiting(at(0), A, at(0))]


def test_a_group_reads_its_repositories_through_the_key_index_on_sqlite(sqlite_engine: Engine) -> None:
    """The read of a group's repositories probes the index on their key, one probe per key named,
    never the index of repositories not removed (every one of them, in a catalog of thousands)."""
    catalog(sqlite_engine, 3)
    sent: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().startswith("SELECT") and "FROM repositories" in statement:
            sent.append((statement, params))

    event.listen(sqlite_engine, "before_cursor_execute", seen)
    try:
        record(sqlite_engine, [push("0", "d1", 0, A), push("2", "d2", 1, B)])
    finally:
        event.remove(sqlite_engine, "before_cursor_execute", seen)
    ((statement, params),) = sent
    with sqlite_engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
    searched = [str(row[-1]) for row in plan if "repositories" in str(row[-1])]
    assert searched == ["SEARCH repositories USING INDEX ix_repositories_key (key=?)"], plan


ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]


def test_times_are_stored_as_a_delivery_recorded_alone_stores_them(store_engine: Engine) -> None:
    """The same deliveries, with and without microseconds, in UTC and in other zones, recorded alone
    (``remember``) and in a group: each pair of rows holds the same text for its time, result and
    repository; on PostgreSQL the time is the instant received."""
    (pay,) = catalog(store_engine, 1)
    times = [
        datetime(2024, 5, 1, 12, 0, 0, micro, tzinfo=zone)
        for zone in ZONES
        for micro in (0, 1, 123456, 999999)
    ] + [datetime(1999, 12, 31, 23, 59, 59, 500000, tzinfo=UTC), datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC)]

    def delivered(prefix: str, n: int, received: datetime) -> Delivery:
        if n % 2:
            return Delivery("gitlab", f"{prefix}{n:02d}", "Push Hook", received, None, "a tag")
        action = Push(HostRepository("github", "0", HOST), "main", "main", A)
        return Delivery("github", f"{prefix}{n:02d}", "push", received, action)

    alone = [delivered("alone-", n, t) for n, t in enumerate(times)]
    assert record_one_by_one(store_engine, alone) == [ACCEPTED, IGNORED] * (len(times) // 2)
    grouped = [delivered("group-", n, t) for n, t in enumerate(times)]
    assert [o.result for o in record(store_engine, grouped)] == [ACCEPTED, IGNORED] * (len(times) // 2)
    rows = {row[1]: row for row in stored(store_engine)}
    for n in range(len(times)):
        one, other = rows[f"alone-{n:02d}"], rows[f"group-{n:02d}"]
        assert (one[0], *one[2:]) == (other[0], *other[2:])
    assert rows["group-00"][4] == pay
    if store_engine.dialect.name == "postgresql":
        with store_engine.connect() as conn:
            instants: dict[str, datetime] = {
                row.delivery_id: row.received_at
                for row in conn.execute(text("SELECT delivery_id, received_at FROM webhook_deliveries"))
            }
        assert [instants[f"group-{n:02d}"] for n in range(len(times))] == times


@pytest.mark.postgres
def test_a_group_inserts_its_ids_in_one_order(pg_engine: Engine) -> None:
    """Two groups holding the same ids cannot wait for each other in a cycle: ids go in sorted. Held up
    at ``b`` (being inserted by another transaction), a group sent ``c, a, b`` has inserted ``a`` and
    not yet ``c``; once ``b`` is let go, the group is recorded whole."""
    results: list[str] = []
    group = [ping("c"), ping("a"), ping("b")]
    with pg_engine.connect() as holder, pg_engine.connect() as probe:
        assert remember(holder, ping("b"), DeliveryOutcome(ACCEPTED))
        writer = threading.Thread(target=lambda: results.extend(o.result for o in record(pg_engine, group)))
        writer.start()
        try:
            wait_for_a_lock_wait(probe)
            assert not can_insert(probe, "a")
            assert can_insert(probe, "c")
        finally:
            holder.rollback()
            writer.join(timeout=30)
    assert results == [ACCEPTED] * 3
    assert [row[1] for row in stored(pg_engine)] == ["a", "b", "c"]


def can_insert(conn: Connection, delivery: str) -> bool:
    """Whether the id can be inserted without waiting for another transaction (then rolled back)."""
    conn.execute(text("SET LOCAL lock_timeout = '300ms'"))
    try:
        remember(conn, ping(delivery), DeliveryOutcome(ACCEPTED))
    except OperationalError as error:
        if not isinstance(error.orig, LockNotAvailable):
            raise
        return False
    finally:
        conn.rollback()
    return True
