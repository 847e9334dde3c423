"""Waking ``catalog-sync worker`` processes through PostgreSQL: ``LISTEN``/``NOTIFY`` on one channel.

A webhook delivery (``deliveries.notify_workers``) sends ``NOTIFY`` inside the transaction that made a
repository due, so PostgreSQL delivers it once that transaction is committed and never for one rolled
back. Each worker keeps one connection of its own (psycopg 3, autocommit) that ``LISTEN``s, and waits
on it between passes instead of polling; the same object is the ``sync.wakeup.Wakeup`` of the worker
loop (a structural match: the store never imports the sync package).

A dropped connection (a database restart, a failover) is reopened at the next wait; the wait that
notices the drop answers True, so the loop makes a pass and catches up on whatever was notified while
nobody listened. A connection that cannot be opened makes the loop poll every ``retry_seconds``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time

import psycopg
from sqlalchemy import URL

log = logging.getLogger(__name__)

CHANNEL = "catalog_sync_due"
"""The channel a delivery notifies when it made a repository due."""


def listen_dsn(url: URL) -> str:
    """A libpq connection URI for psycopg from the SQLAlchemy URL of the catalog's database."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresWakeup:
    """Waits for ``NOTIFY catalog_sync_due``; ``notify`` also wakes it from this process (a stop)."""

    def __init__(self, dsn: str, *, channel: str = CHANNEL, retry_seconds: float = 5.0) -> None:
        self._dsn = dsn
        self._channel = channel
        self._retry = retry_seconds
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        self._woken = threading.Event()
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._failing = False
        self._dropped = False

    def notify(self) -> None:
        """Wake a wait of this process (whoever stops the loop calls it)."""
        self._woken.set()
        with contextlib.suppress(BlockingIOError):  # the pipe is full of wake-ups already
            os.write(self._write, b"!")

    def listen(self) -> bool:
        """Open the listening connection now (else at the first wait); False when it cannot be."""
        return self._connect() is not None

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a notification; True when one came (or the connection was
        reopened, and notifications may have been missed)."""
        deadline = time.monotonic() + max(0.0, timeout)
        if self._take_local():
            return True
        connection = self._connection
        if connection is None:
            connection = self._connect()
            if connection is None:
                self._sleep(min(self._retry, max(0.0, deadline - time.monotonic())))
                return self._take_local()
            if self._dropped:  # notifications sent while nobody listened: make a pass to catch up
                self._dropped = False
                return True
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                readable, _, _ = select.select([connection.fileno(), self._read], [], [], remaining)
                if self._read in readable:
                    self._take_local()
                    return True
                if readable and self._drain(connection):
                    return True
            except (psycopg.Error, OSError, ValueError) as exc:
                name = type(exc).__name__
                log.warning("the wake-up connection to the database dropped (%s); reopening it", name)
                self._close()
                return True

    def close(self) -> None:
        """Close the listening connection and the pipe."""
        self._close()
        self._dropped = False
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _drain(self, connection: psycopg.Connection[tuple[object, ...]]) -> bool:
        """Read what arrived on the connection; True when it held a notification of the channel."""
        found = False
        for note in connection.notifies(timeout=0.0):
            found = found or note.channel == self._channel
        if connection.closed or connection.broken:
            raise psycopg.OperationalError("the connection closed")
        return found

    def _connect(self) -> psycopg.Connection[tuple[object, ...]] | None:
        if self._connection is not None:
            return self._connection
        connection: psycopg.Connection[tuple[object, ...]] | None = None
        try:
            connection = psycopg.connect(self._dsn, autocommit=True, connect_timeout=10)
            connection.execute(f'LISTEN "{self._channel}"')
        except psycopg.Error as exc:
            if connection is not None:
                with contextlib.suppress(psycopg.Error):
                    connection.close()
            if not self._failing:
                log.warning(
                    "cannot listen for wake-ups on the database (%s); polling every %.0f s until it answers",
                    type(exc).__name__,
                    self._retry,
                )
            self._failing = True
            return None
        self._failing = False
        self._connection = connection
        return connection

    def _close(self) -> None:
        if self._connection is not None:
            self._dropped = True
            with contextlib.suppress(psycopg.Error):
                self._connection.close()
            self._connection = None

    def _take_local(self) -> bool:
        if not self._woken.is_set():
            return False
        self._woken.clear()
        try:
            while os.read(self._read, 512):
                pass
        except (BlockingIOError, OSError):
            pass
        return True

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            select.select([self._read], [], [], seconds)
