"""Opening the database: SQLite for a laptop and the demo, PostgreSQL (psycopg 3) for a fleet.

One function decides the connection settings so that every process (API, workers, CLI) talks to the
database the same way: SQLite in WAL mode with foreign keys and a busy timeout (readers never block
the writer, concurrent writers wait instead of failing), PostgreSQL with pre-ping so a restarted
server costs one retry, not an error. Failures to reach the database become ``StoreError`` with a
message that names the database but never its credentials.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from catalog_sync.errors import StoreError

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_CACHE_KIB = 16 * 1024
SQLITE_MMAP_BYTES = 0  # reads go through the page cache; a memory map would count the whole file in RSS
POSTGRES_CONNECT_TIMEOUT_S = 10


def open_engine(url: str) -> Engine:
    """Create the engine for a database URL; nothing is connected until first use."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        return _open_sqlite(parsed)
    if parsed.get_backend_name() == "postgresql":
        try:
            return create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S},
            )
        except (ImportError, ArgumentError) as exc:
            raise StoreError(
                f"the PostgreSQL driver {parsed.drivername!r} is not available: use postgresql+psycopg://"
            ) from exc
    raise StoreError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite:///path or postgresql://host/db"
    )


def check_ready(engine: Engine) -> None:
    """Prove the database answers, for ``/readyz`` and for ``sync`` to stop early with exit status 1."""
    with translate_errors(engine), engine.connect() as connection:
        connection.execute(text("SELECT 1"))


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
    """Turn driver and pool failures into ``StoreError`` so callers handle one error type."""
    try:
        yield
    except DBAPIError as exc:
        raise StoreError(f"database {describe(engine)} failed: {_reason(engine, exc)}") from exc
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


def _open_sqlite(url: URL) -> Engine:
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
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
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
