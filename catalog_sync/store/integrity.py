"""Noticing a damaged database file, so that readiness, a sync pass and the API say so and name it.

SQLite notices a damaged page only when a statement reads it: without this module, a catalog whose
file was damaged in the middle answered ``/readyz`` with 200, synced with exit status 0 and failed
some requests for good with "database unavailable". Two signals now mark the file corrupt:

- any statement that meets the damage: ``engine.translate_errors`` asks ``corruption`` whether a
  driver error means corruption (SQLite's ``SQLITE_CORRUPT`` "database disk image is malformed" and
  ``SQLITE_NOTADB`` "file is not a database"; PostgreSQL's ``data_corrupted`` and
  ``index_corrupted``) and raises ``CorruptDatabaseError``, which marks the file;
- ``PRAGMA quick_check``, followed by a parse of every stored JSON value (damage inside a record
  leaves the pages well formed), which reads every page of the file (about 0.3 s warm and 2 s cold for a
  180 MB catalog of 100,000 entities), so it never runs on every probe: ``verify`` (called by
  ``check_ready``) runs it in the caller when the file was never checked by this process (at start:
  ``catalog-sync sync``, ``worker``, ``serve`` and the API's workers all check readiness first), then
  in a background thread at most every ``CHECK_SECONDS``, and every ``CORRUPT_RECHECK_SECONDS`` while
  the file is marked corrupt, so that a restored file is ready again without a restart. A probe never
  waits for a check that runs in the background: it answers from the last result.

While the file is marked corrupt, ``verify`` raises ``CorruptDatabaseError`` naming the file: ``/readyz``
answers 503 with that message, and a sync pass stops with exit status 1. PostgreSQL checks its own
pages; its corruption errors are classified, but there is no file to check here.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Connection, Engine, LargeBinary, cast, func, not_, select
from sqlalchemy.exc import DBAPIError

from catalog_sync.errors import CorruptDatabaseError
from catalog_sync.store.tables import metadata

CHECK_SECONDS = 600.0
"""How often a process re-reads the whole file with ``PRAGMA quick_check`` while it looks healthy."""
CORRUPT_RECHECK_SECONDS = 30.0
"""How often a file marked corrupt is checked again, so a restored file becomes ready by itself."""
SQLITE_CORRUPT = 11
SQLITE_NOTADB = 26
_UNDECODABLE = re.compile(r"Could not decode to UTF-8 column ('[^']*')")
"""Python's sqlite3 reading a text that is not UTF-8 (SQLite itself does not check)."""
POSTGRES_CORRUPTION = frozenset({"XX001", "XX002"})  # data_corrupted, index_corrupted
ADVICE = (
    "restore it from a backup, or move it away and run `catalog-sync sync` to build the catalog "
    "again from the repositories (losing its scoring history and API registrations)"
)


@dataclass
class _FileHealth:
    """What this process knows of one database file."""

    checked_at: float | None = None
    corrupt: str | None = None
    running: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


_files: dict[str, _FileHealth] = {}
_files_lock = threading.Lock()


def database_file(engine: Engine) -> str | None:
    """The absolute path of a SQLite database file; None for PostgreSQL and in-memory databases."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:") or "mode=memory" in database:
        return None
    return os.path.abspath(os.path.expanduser(database.removeprefix("file:").split("?", 1)[0]))


def corrupt_message(where: str, reason: str) -> str:
    """The one sentence every front door shows for a damaged database."""
    return f"database {where} is corrupt: {reason}; {ADVICE}"


def corruption(engine: Engine, error: DBAPIError, reason: str, described: str) -> CorruptDatabaseError | None:
    """``CorruptDatabaseError`` when the driver's error means damaged data (the file is then marked
    corrupt for readiness); None for any other failure. ``described`` names a database that is not a
    file (``engine.describe``)."""
    original: Any = error.orig
    undecodable = _UNDECODABLE.match(str(original)) if isinstance(original, sqlite3.DatabaseError) else None
    if undecodable is not None:  # the store writes UTF-8 only: a text that is not was damaged since
        damaged = True
        reason = f"a stored text of column {undecodable.group(1)} is not valid UTF-8"
    elif isinstance(original, sqlite3.DatabaseError):
        code = getattr(original, "sqlite_errorcode", None)
        damaged = (code & 0xFF) in (SQLITE_CORRUPT, SQLITE_NOTADB) if isinstance(code, int) else False
    else:
        damaged = getattr(original, "sqlstate", None) in POSTGRES_CORRUPTION
    if not damaged:
        return None
    path = database_file(engine)
    if path is None:
        return CorruptDatabaseError(corrupt_message(described, reason))
    message = corrupt_message(f"file {path}", reason)
    _mark(path, message)
    return CorruptDatabaseError(message)


def verify(engine: Engine, connection: Connection) -> None:
    """Raise ``CorruptDatabaseError`` when the file is known to be damaged; check it when due (see
    the module doc). ``connection`` is used for the first check, which runs in the caller."""
    path = database_file(engine)
    if path is None:
        return
    health = _health(path)
    if health.checked_at is None:
        with health.lock:
            if health.checked_at is None:
                _record(path, health, _quick_check(connection))
    elif _due(health):
        _check_in_background(engine, path, health)
    if health.corrupt is not None:
        raise CorruptDatabaseError(health.corrupt)


def _health(path: str) -> _FileHealth:
    with _files_lock:
        return _files.setdefault(path, _FileHealth())


def _mark(path: str, message: str) -> None:
    health = _health(path)
    health.corrupt = message
    health.checked_at = time.monotonic()  # the next check waits CORRUPT_RECHECK_SECONDS


def _due(health: _FileHealth) -> bool:
    wait = CHECK_SECONDS if health.corrupt is None else CORRUPT_RECHECK_SECONDS
    return health.checked_at is None or time.monotonic() - health.checked_at >= wait


def _quick_check(connection: Connection) -> str | None:
    """SQLite's own structural check, then the stored JSON (``_damaged_json``): None when both find
    nothing, else the first finding."""
    found = connection.exec_driver_sql("PRAGMA quick_check(1)").scalar()
    if found == "ok":
        return _damaged_json(connection)
    lines = [line.strip() for line in str(found).splitlines() if line.strip() and "***" not in line]
    return f"PRAGMA quick_check found: {'; '.join(lines)[:300] or found}"


def _damaged_json(connection: Connection) -> str | None:
    """The first value of a JSON column (``tables.JSON_TEXT``) that no longer parses or decodes.

    A flipped byte inside a record leaves every page well formed, so ``quick_check`` passes while the
    reads of that row fail for good; the store wrote each of these values as JSON, so one that does
    not parse is damage. It reads what ``quick_check`` has just read, with SQLite's ``json_valid``.
    """
    for table in metadata.sorted_tables:
        present = {row[1] for row in connection.exec_driver_sql(f'PRAGMA table_info("{table.name}")')}
        for column in table.columns:
            if not column.info.get("json") or column.name not in present:  # a schema not yet migrated
                continue
            key = list(table.primary_key.columns)
            invalid = connection.execute(
                select(*key).where(column.is_not(None), not_(func.json_valid(column))).limit(1)
            ).first()
            found = tuple(invalid) if invalid is not None else None
            if found is None:
                found = _undecodable_row(connection, key, column)
                problem = "is not valid UTF-8"
            else:
                problem = "is not valid JSON"
            if found is not None:
                row = ", ".join(f"{c.name} {value}" for c, value in zip(key, found, strict=True))
                return f"{table.name}.{column.name} of the row with {row} {problem}"
    return None


def _undecodable_row(
    connection: Connection, key: list[Column[Any]], column: Column[Any]
) -> tuple[Any, ...] | None:
    """The key of the first row whose ``column`` holds bytes that are not UTF-8 (``json_valid`` and
    SQLite accept them; every read of that row fails). About 3 ms per MB of stored text."""
    raw = select(*key, cast(column, LargeBinary)).where(column.is_not(None))
    for row in connection.execute(raw.execution_options(yield_per=1000)):
        try:
            bytes(row[-1]).decode("utf-8")
        except UnicodeDecodeError:
            return tuple(row[:-1])
    return None


def _record(path: str, health: _FileHealth, finding: str | None) -> None:
    health.checked_at = time.monotonic()
    health.corrupt = corrupt_message(f"file {path}", finding) if finding is not None else None


def _check_in_background(engine: Engine, path: str, health: _FileHealth) -> None:
    """Start one check unless one is running; the probe that asked does not wait for it."""
    with health.lock:
        if health.running or not _due(health):
            return
        health.running = True

    def check() -> None:
        try:
            with engine.connect() as connection:
                finding = _quick_check(connection)
        except DBAPIError as exc:  # the check itself met the damage, or could not run at all
            reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc).__name__
            if corruption(engine, exc, reason, path) is None:
                health.checked_at = time.monotonic()  # unreachable is not corrupt: keep what we knew
        else:
            _record(path, health, finding)
        finally:
            health.running = False

    threading.Thread(target=check, name="catalog-integrity-check", daemon=True).start()
