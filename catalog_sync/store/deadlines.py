"""A time limit on the statements of the API's connections, and telling a heavy query from a failing database.

A request may be legal and still cost the database seconds of work (many filter conditions over a
large catalog). Such a statement is stopped after ``api.statement_timeout_seconds``, and what stopped
it must not be mistaken for an outage: both drivers raise their "operational" error for a cancelled
statement and for a lost server alike, and an API that answered every one of them with 503 "database
unavailable" blamed the database for the client's query (and told monitoring the same).

- PostgreSQL enforces the limit itself: the engine's connections start with ``statement_timeout``
  (a startup option, so it costs no round trip), and a cancelled statement reports SQLSTATE 57014.
- SQLite has no statement timeout. A progress handler on each connection is called every
  ``SQLITE_PROGRESS_STEPS`` steps of SQLite's virtual machine and interrupts the statement once its
  deadline has passed; the deadline is set when a statement starts, cleared when the connection
  returns to the pool. An interrupted statement reports ``SQLITE_INTERRUPT``.

``heavy_query_message`` recognises both, and the database's own size limits (columns, bound
parameters, expression depth), so that ``engine.translate_errors`` raises ``HeavyQueryError`` (a 400
for the client) for them and ``StoreError`` (a 503) only when the database itself failed.
"""

from __future__ import annotations

import math
import sqlite3
import time
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_PROGRESS_STEPS = 10_000
"""Virtual-machine steps between two looks at the clock: some tens of microseconds of work, so the
deadline is kept to well under a millisecond while the check costs nothing measurable."""

TIMEOUT_SETTING = "api.statement_timeout_seconds"

_SQLITE_INTERRUPT = 9
_SQLITE_LIMITS = (
    "too many columns",
    "too many sql variables",
    "expression tree is too large",
    "too many terms in compound select",
    "parser stack overflow",
    "too many from clause terms",
    "tables in a join",
    "too many arguments on function",
    "pattern too complex",
)
"""How SQLite words the limits of a statement's shape: they share the generic error code with real
failures. (A value too big to store is a write's problem, not the query's, and is left out.)"""
_PG_QUERY_CANCELED = "57014"
_PG_STATEMENT_LIMITS = frozenset({"54001", "54011", "54023"})
"""Statement too complex, too many columns, too many arguments. The rest of class 54 (an index row
too large, say) is about values being written, not about the query."""
_DEADLINE = "catalog_sync_deadline"

_timeouts: WeakKeyDictionary[Engine, float] = WeakKeyDictionary()


class _Deadline:
    """When the running statement of one SQLite connection must stop (never, between statements)."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = math.inf

    def passed(self) -> int:
        """The progress handler: non-zero interrupts the statement."""
        return 1 if time.monotonic() > self.at else 0


def postgres_timeout_option(seconds: float) -> str:
    """The startup option that makes PostgreSQL cancel statements running longer than ``seconds``."""
    return f"-c statement_timeout={max(1, round(seconds * 1000))}"


def limit_statements(engine: Engine, seconds: float) -> None:
    """Stop every statement of ``engine`` that runs longer than ``seconds``.

    On PostgreSQL the engine must also have been created with ``postgres_timeout_option``; here the
    limit is only remembered, for the error message.
    """
    _timeouts[engine] = seconds
    if engine.dialect.name != "sqlite":
        return

    def arm_connection(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        deadline = _Deadline()
        record.info[_DEADLINE] = deadline
        dbapi_connection.set_progress_handler(deadline.passed, SQLITE_PROGRESS_STEPS)

    def start_clock(connection: Connection, *_: Any) -> None:
        deadline = connection.info.get(_DEADLINE)
        if isinstance(deadline, _Deadline):
            deadline.at = time.monotonic() + seconds

    def stop_clock(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        deadline = record.info.get(_DEADLINE)
        if isinstance(deadline, _Deadline):
            deadline.at = math.inf

    event.listen(engine, "connect", arm_connection)
    event.listen(engine, "before_cursor_execute", start_clock)
    event.listen(engine, "checkin", stop_clock)


def statement_timeout(engine: Engine) -> float | None:
    """The statement time limit of an engine, None when it has none."""
    return _timeouts.get(engine)


def heavy_query_message(engine: Engine, exc: DBAPIError) -> str | None:
    """What to tell the client when the database stopped a statement for its cost; None when the
    failure is something else (the database unreachable, a constraint, a bug).

    Only a read is the client's heavy query: a write cancelled at the deadline was waiting for a lock
    a sync pass holds, which passes, so it stays a ``StoreError`` (503, try again)."""
    original = exc.orig
    seconds = statement_timeout(engine) if _reads(exc.statement) else None
    if isinstance(original, sqlite3.Error):
        code = getattr(original, "sqlite_errorcode", None)
        if code == _SQLITE_INTERRUPT and seconds is not None:
            return _too_slow(seconds)
        text = str(original).lower()
        if any(limit in text for limit in _SQLITE_LIMITS):
            return _too_large(str(original))
        return None
    sqlstate = getattr(original, "sqlstate", None)
    if not isinstance(sqlstate, str):
        return None
    if sqlstate == _PG_QUERY_CANCELED and seconds is not None:
        return _too_slow(seconds)
    if sqlstate in _PG_STATEMENT_LIMITS:
        return _too_large(str(original).strip().splitlines()[0] if str(original).strip() else sqlstate)
    return None


def _reads(statement: str | None) -> bool:
    words = (statement or "").lstrip().split(None, 1)
    return bool(words) and words[0].upper() in ("SELECT", "WITH")


def _too_slow(seconds: float) -> str:
    return f"the query took longer than {seconds:g} s ({TIMEOUT_SETTING}); narrow the filter"


def _too_large(reason: str) -> str:
    return f"the query is too large for the database ({reason}); narrow the filter"
