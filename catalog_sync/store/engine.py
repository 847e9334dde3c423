"""Opening the database: SQLite for a laptop and the demo, PostgreSQL (psycopg 3) for a fleet.

One function decides the connection settings so that every process (API, workers, CLI) talks to the
database the same way: SQLite in WAL mode with foreign keys and a busy timeout (readers never block
the writer, concurrent writers wait instead of failing); PostgreSQL with pooled connections that are
checked without a round trip when they leave the pool (see ``_discard_if_closed_by_server``), so a
restarted server or a terminated backend costs neither an error nor a ``SELECT 1`` per request.
Failures to reach the database become ``StoreError`` with a message that names the database but never
its credentials.

Reads go through ``read_connection``/``reading``: on PostgreSQL they run in autocommit, because a
read-only transaction only adds a ``BEGIN`` and a ``ROLLBACK`` round trip (and the rollback drops the
driver's prepared statements) while, under PostgreSQL's default READ COMMITTED, each statement sees
its own snapshot anyway. What must agree (a page and its total) is therefore read in one statement.
"""

from __future__ import annotations

import re
import select
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, StaticPool

from catalog_sync.errors import HeavyQueryError, RefusedError, StoreError, WriteRaceError
from catalog_sync.store import integrity
from catalog_sync.store.deadlines import heavy_query_message, limit_statements, postgres_timeout_option

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_CACHE_KIB = 16 * 1024
SQLITE_SERVING_CACHE_KIB = 2 * 1024
"""The page cache of each connection an API process pools. Every pooled connection keeps a cache of
its own, and the operating system caches the file once for all of them, so a large cache per
connection only multiplies memory: 16 MiB made a server grow by ~250 MiB under load, for no speed."""
SQLITE_MMAP_BYTES = 0  # reads go through the page cache; a memory map would count the whole file in RSS
POSTGRES_CONNECT_TIMEOUT_S = 10
POSTGRES_PLANNING = "-c plan_cache_mode=force_custom_plan"
"""Statements the driver prepares (after a few runs on one connection) are still planned for their
values each time: a filter's best plan depends on its values (an owner or a kind), and PostgreSQL's
generic plan for one shape of query can be several times slower for some of them. Sent with the
connection's startup, so it costs no round trip; ``options`` given in the URL are kept."""
POSTGRES_RECYCLE_SECONDS = 1800
"""Pooled PostgreSQL connections older than this are replaced at their next checkout, which bounds
how long a connection that a proxy or firewall dropped silently can linger in the pool."""


def open_engine(url: str, *, serving: bool = False, statement_timeout_seconds: float | None = None) -> Engine:
    """Create the engine for a database URL; nothing is connected until first use.

    ``serving``: for a process that answers HTTP requests (many pooled connections, reads), whose
    SQLite connections keep a small page cache (``SQLITE_SERVING_CACHE_KIB``).
    ``statement_timeout_seconds``: every statement running longer is stopped with ``HeavyQueryError``
    (``api.statement_timeout_seconds`` for the API's engine; see ``deadlines``).
    """
    parsed = _parse(url)
    engine: Engine
    if parsed.get_backend_name() == "sqlite":
        engine = _open_sqlite(parsed, SQLITE_SERVING_CACHE_KIB if serving else SQLITE_CACHE_KIB)
    elif parsed.get_backend_name() == "postgresql":
        engine = _open_postgres(parsed, statement_timeout_seconds)
    else:
        raise StoreError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:///path or postgresql://host/db"
        )
    if statement_timeout_seconds is not None:
        limit_statements(engine, statement_timeout_seconds)
    return engine


def read_connection(engine: Engine) -> Connection:
    """A connection for reads only (one per API request, say); autocommit on PostgreSQL (see above).

    The caller closes it. Nothing may be written through it: on PostgreSQL each write would commit
    alone.
    """
    with translate_errors(engine):
        connection = engine.connect()
        if engine.dialect.name == "postgresql":
            try:
                connection.execution_options(isolation_level="AUTOCOMMIT")
            except BaseException:
                connection.close()
                raise
    return connection


@contextmanager
def reading(engine: Engine, connection: Connection | None = None) -> Iterator[Connection]:
    """The caller's connection, or a read connection of its own for the block; database failures in
    the block become ``StoreError``.

    Readers take an optional connection so that one API request can run all its queries on one
    connection instead of checking one out of the pool per query.
    """
    with translate_errors(engine):
        if connection is not None:
            yield connection
            return
        with read_connection(engine) as own:
            yield own


def lock_writes(connection: Connection, lock_id: int) -> None:
    """Make the writers of one kind wait for each other until the transaction ends, first thing in it.

    PostgreSQL takes the advisory lock ``lock_id`` names, so other writes go on beside; SQLite, which
    has one writer, takes the database's write lock (``BEGIN IMMEDIATE``) before the transaction has
    read anything, as a transaction that has read cannot wait for it.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def check_ready(engine: Engine) -> None:
    """Prove the database answers, for ``/readyz`` and for ``sync`` to stop early with exit status 1;
    a SQLite file known to be damaged is not ready (``integrity.verify``)."""
    with reading(engine) as connection:
        connection.execute(text("SELECT 1"))
        integrity.verify(engine, connection)


def describe(engine: Engine) -> str:
    """Name a database for messages and logs, without user name or password."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{url.database or ':memory:'}"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"{url.get_backend_name()}://{host}{port}/{url.database or ''}"


@contextmanager
def translate_errors(engine: Engine) -> Iterator[None]:
    """Turn driver and pool failures into ``StoreError`` so callers handle one error type.

    Damaged data is ``CorruptDatabaseError`` (see ``integrity``), never a refusal to retry row by row.
    A statement the database stopped for its own cost (past the statement timeout, or over a limit
    of the database) becomes ``HeavyQueryError``: the query's fault, not the database's.
    """
    try:
        yield
    except DBAPIError as exc:
        corrupt = integrity.corruption(engine, exc, _reason(engine, exc), describe(engine))
        if corrupt is not None:
            raise corrupt from exc
        heavy = heavy_query_message(engine, exc)
        if heavy is not None:
            raise HeavyQueryError(heavy) from exc
        message = f"database {describe(engine)} failed: {_reason(engine, exc)}"
        if isinstance(exc, IntegrityError):
            raise WriteRaceError(message) from exc
        if not isinstance(exc, OperationalError | InterfaceError) and not exc.connection_invalidated:
            raise RefusedError(message) from exc
        raise StoreError(message) from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"database {describe(engine)} failed: {type(exc).__name__}") from exc


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError("the database URL cannot be read (expected e.g. sqlite:///catalog.db)") from exc
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg3"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _open_postgres(url: URL, statement_timeout_seconds: float | None) -> Engine:
    given = url.query.get("options", ())
    options = " ".join([*([given] if isinstance(given, str) else given), POSTGRES_PLANNING])
    if statement_timeout_seconds is not None:
        options = f"{options} {postgres_timeout_option(statement_timeout_seconds)}"
    try:
        engine = create_engine(
            url,
            pool_recycle=POSTGRES_RECYCLE_SECONDS,
            connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S, "options": options},
        )
    except (ImportError, ArgumentError) as exc:
        raise StoreError(
            f"the PostgreSQL driver {url.drivername!r} is not available: use postgresql+psycopg://"
        ) from exc
    dialect = engine.dialect

    def discard_if_closed(
        dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        _discard_if_closed_by_server(dialect, dbapi_connection, record)

    def note_returned(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED] = True

    event.listen(engine, "checkout", discard_if_closed)
    event.listen(engine, "checkin", note_returned)
    return engine


_RETURNED = "catalog_sync_returned"
"""Marks a pooled connection that has been used and returned (the pool clears it on reconnecting)."""


def _discard_if_closed_by_server(
    dialect: Dialect, dbapi_connection: Any, record: ConnectionPoolEntry
) -> None:
    """Replace a pooled connection the server has closed, usually without a round trip.

    An idle connection receives nothing unless the server is going away: a restart, a terminated
    backend or an idle timeout sends an error and closes the socket. So the socket is polled (a
    system call, no round trip): when nothing is waiting, the connection is handed out as it is;
    when something is, a ping tells a closed connection from a harmless message (a notice) and
    ``DisconnectionError`` makes the pool connect anew. A server that vanishes without closing its
    sockets (a crashed host, a cut network) is noticed by the first statement instead: that request
    fails with ``StoreError`` (503 from the API), SQLAlchemy discards every pooled connection, and the
    next request connects afresh.
    """
    if not record.info.get(_RETURNED) or not _has_input(dbapi_connection):
        return
    try:
        alive = dialect.do_ping(dbapi_connection)
    except Exception:  # any failure to ping: a new connection is always safe
        alive = False
    if not alive:
        raise DisconnectionError("the server closed this pooled connection")


def _has_input(dbapi_connection: Any) -> bool:
    """Whether the server sent something (or closed the socket) while the connection sat in the pool."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except Exception:  # a connection the driver already knows is closed has no socket left to poll
        return True


def _open_sqlite(url: URL, cache_kib: int) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    kwargs: dict[str, Any] = {}
    if in_memory:
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    else:
        folder = Path(database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder {folder} for the SQLite database: {exc}") from exc
        kwargs = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", lambda connection, _record: _set_sqlite_pragmas(connection, cache_kib))
    return engine


def _set_sqlite_pragmas(dbapi_connection: Any, cache_kib: int) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{cache_kib}")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        _enable_wal(cursor)
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch to WAL, waiting out other connections: SQLite answers "locked" here without waiting."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _reason(engine: Engine, exc: DBAPIError) -> str:
    """The driver's first line of explanation, with any password scrubbed out."""
    original = exc.orig if exc.orig is not None else exc
    lines = str(original).strip().splitlines()
    reason = lines[0] if lines else type(original).__name__
    password = engine.url.password
    if password:
        reason = reason.replace(str(password), "***")
    return re.sub(r"(://[^:/@\s]*):[^@\s]*@", r"\1:***@", reason)
