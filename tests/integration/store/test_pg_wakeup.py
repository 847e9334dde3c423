"""The worker's wake-up on PostgreSQL: a ``NOTIFY`` sent in a committed transaction wakes a waiting
worker at once, one rolled back never does, and a dropped connection is reopened without a restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from catalog_sync.store.admin_store import SqlAdministration
from catalog_sync.store.base import Database
from catalog_sync.store.pg_wakeup import CHANNEL, PostgresWakeup, listen_dsn

pytestmark = pytest.mark.postgres


def notify(engine: Engine, *, commit: bool = True) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_notify(:c, '')"), {"c": CHANNEL})
        if commit:
            conn.commit()
        else:
            conn.rollback()


@contextmanager
def later(action: Callable[[], object], *, seconds: float = 0.2) -> Iterator[None]:
    """Run ``action`` in a thread after ``seconds``, and wait for it before the test ends: a thread still
    holding a pooled connection when the fixture disposes the engine would leave that connection open
    for the garbage collector."""
    timer = threading.Timer(seconds, action)
    timer.start()
    try:
        yield
    finally:
        timer.join(timeout=30)


def test_a_committed_notify_wakes_the_wait_at_once(pg_engine: Engine) -> None:
    wakeup = PostgresWakeup(listen_dsn(pg_engine.url))
    try:
        assert wakeup.listen()
        with later(lambda: notify(pg_engine)):
            started = time.monotonic()
            assert wakeup.wait(10.0)
            assert time.monotonic() - started < 2.0
    finally:
        wakeup.close()


def test_a_rolled_back_notify_never_wakes_and_the_wait_times_out(pg_engine: Engine) -> None:
    wakeup = PostgresWakeup(listen_dsn(pg_engine.url))
    try:
        assert wakeup.listen()
        notify(pg_engine, commit=False)
        assert not wakeup.wait(0.5)
    finally:
        wakeup.close()


def test_a_dropped_connection_is_reopened_and_woken_again(pg_engine: Engine) -> None:
    wakeup = PostgresWakeup(listen_dsn(pg_engine.url), retry_seconds=0.2)
    try:
        assert wakeup.listen()
        with pg_engine.connect() as conn:  # a database restart, as the worker's connection sees it
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
                )
            )
            conn.commit()
        assert wakeup.wait(5.0)  # the drop itself: a pass to catch up on what was missed
        deadline = time.monotonic() + 5
        while wakeup.wait(0.1) and time.monotonic() < deadline:
            pass  # the reconnect's catch-up answers True once more
        with later(lambda: notify(pg_engine)):
            assert wakeup.wait(10.0)
    finally:
        wakeup.close()


def test_a_stop_in_this_process_wakes_the_wait(pg_engine: Engine) -> None:
    wakeup = PostgresWakeup(listen_dsn(pg_engine.url))
    try:
        with later(wakeup.notify):
            started = time.monotonic()
            assert wakeup.wait(10.0)
            assert time.monotonic() - started < 2.0
    finally:
        wakeup.close()


def test_a_refresh_or_sync_requested_through_the_api_wakes_the_workers(pg_engine: Engine) -> None:
    administration = SqlAdministration(Database(pg_engine))
    wakeup = PostgresWakeup(listen_dsn(pg_engine.url))
    try:
        assert wakeup.listen()
        with later(lambda: administration.schedule_all(datetime.now(UTC))):
            started = time.monotonic()
            assert wakeup.wait(10.0)
            assert time.monotonic() - started < 2.0
    finally:
        wakeup.close()
