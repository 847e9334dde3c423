"""A group's pushes, written as one statement with one row per repository.

A group of webhook deliveries (``deliveries.record_plain``) often names one repository several times:
a burst of pushes, a branch deleted and pushed again. Writing each push in turn costs the database
one row update per push and the API process one set of bound values per push, under the write lock
of the whole group. Yet only the last push's commit and time, and the time of the earliest push still
waiting, survive a sequence of pushes, so the sequence collapses, in Python, to one row per repository
(``collapse``), which one statement applies (``write_pushes``).

What a push delivered alone writes (``deliveries._PUSHED`` and ``deliveries._BRANCH_DELETED``):
- ``next_sync_at`` and ``pushed_commit`` become the push's time and commit (None for a deletion);
- a push keeps ``pushed_at`` when a push is already waiting (both columns set), else sets its time;
  a deletion clears it.
So after the group: the last op's time and commit; ``pushed_at`` is None when the last op deleted the
branch, the time of the first push after the last deletion when the group deleted it, and otherwise
the row's own ``pushed_at`` when a push was waiting before the group, else the group's first push's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Connection, TextClause, text

from catalog_sync.store.tables import repositories


@dataclass(frozen=True, slots=True)
class Pushed:
    """One push to a repository's tracked branch, as received; ``commit`` None: the branch was deleted."""

    received: datetime
    commit: str | None


@dataclass(frozen=True, slots=True)
class Collapsed:
    """What a repository's pushes of one group leave it with (see the module's docstring)."""

    repository: int
    due_at: datetime
    commit: str | None
    first_push_at: datetime | None
    """The time ``pushed_at`` takes unless it is kept: the first push after the group's last deletion
    (or of the group, when it deleted nothing); None when the group's last op deleted the branch."""
    after_deletion: bool
    """The group deleted the branch: the row's own ``pushed_at`` is never kept."""


def collapse(repository: int, ops: Sequence[Pushed]) -> Collapsed:
    """The one write equivalent to writing ``ops`` (at least one, in the order received) in turn."""
    last = ops[-1]
    first_push_at: datetime | None = None
    after_deletion = False
    for op in ops:
        if op.commit is None:
            after_deletion = True
            first_push_at = None
        elif first_push_at is None:
            first_push_at = op.received
    return Collapsed(repository, last.received, last.commit, first_push_at, after_deletion)


def _update_from(rows: str, *, before: str = "") -> TextClause:
    """The update both databases run, given how each reads the bound rows as ``v`` (``rows``, and a
    ``WITH`` clause ``before`` it): what a group leaves in a row is one rule, written once so that
    SQLite and PostgreSQL cannot come to disagree on it."""
    return text(
        f"""
        {before}
        UPDATE repositories
        SET next_sync_at = v.due_at,
            pushed_commit = v.tip,
            pushed_at = CASE
                WHEN v.after_deletion THEN v.first_push_at
                WHEN repositories.pushed_commit IS NOT NULL AND repositories.pushed_at IS NOT NULL
                    THEN repositories.pushed_at
                ELSE v.first_push_at
            END
        FROM {rows}
        WHERE repositories.id = v.id
        """  # noqa: S608 - both parts are constants of this module; values come only as bound parameters
    )


_WRITE = {
    "postgresql": _update_from(
        "v",
        before="""
        WITH v AS MATERIALIZED (
            SELECT given.*
            FROM repositories JOIN json_to_recordset(CAST(:rows AS json)) AS given(
                id bigint, due_at timestamptz, tip varchar, first_push_at timestamptz, after_deletion boolean
            ) ON given.id = repositories.id
            WHERE repositories.id = ANY(CAST(:ids AS bigint[]))
            ORDER BY repositories.id
            FOR UPDATE OF repositories
        )""",
    ),
    "sqlite": _update_from(
        """(
            SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.due_at') AS due_at,
                json_extract(value, '$.tip') AS tip, json_extract(value, '$.first_push_at') AS first_push_at,
                json_extract(value, '$.after_deletion') AS after_deletion
            FROM json_each(:rows)
        ) AS v"""
    ),
}
"""The group in one execution of one statement, its rows bound as one JSON text: psycopg dumps a list
bound as an array element by element in Python (five arrays cost more CPU than the batch of
single-row updates they replace), while ``json.dumps`` is C. Each push kept ``pushed_at`` when a push
was waiting (both columns set) and a deletion cleared it; the right-hand sides of ``SET`` read the row
as it was before the statement, as the group's first push did.

On PostgreSQL the repositories are locked first, in id order: ``v`` is a materialized CTE whose rows
are locked as its sorted rows come out (the lock sits above the sort), and the update reaches a row
only through ``v``, so two groups writing at once wait for each other in one order, never in a
cycle, whatever join the planner picks for the update itself. The ids, bound again as an array, let
the CTE find its rows through the primary key: ``json_to_recordset`` is estimated at 100 rows, for
which a scan of a large table looks cheaper than as many probes. SQLite locks the whole database
for the transaction: there the order decides no waits."""


def write_pushes(conn: Connection, rows: Sequence[Collapsed]) -> None:
    """Apply ``rows`` (one per repository, in any order) in one statement execution."""
    if rows:
        values = {"rows": _as_json(rows, stamper(conn, repositories.c.next_sync_at))}
        if conn.dialect.name == "postgresql":
            values["ids"] = "{" + ",".join(str(row.repository) for row in rows) + "}"
        conn.execute(_WRITE[conn.dialect.name], values)


def stamper(conn: Connection, column: Column[datetime]) -> Callable[[datetime], str]:
    """Timestamps of ``column`` as the database reads them from text: ISO 8601 with the zone on
    PostgreSQL, the text SQLAlchemy stores in the column on SQLite (which has no time type: its text
    is compared and sorted)."""
    if conn.dialect.name == "postgresql":
        return datetime.isoformat
    stored = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    if stored is None:  # pragma: no cover - SQLAlchemy's SQLite dialect always formats its datetimes
        return datetime.isoformat
    return stored


def _as_json(rows: Sequence[Collapsed], stamp: Callable[[datetime], str]) -> str:
    """The rows as the statements read them; a time is formatted once per row (a lone push's is both
    its due time and its first push's), formatting being most of the cost of a row."""
    listed = []
    for row in rows:
        due_at = stamp(row.due_at)
        first = row.first_push_at
        listed.append(
            {
                "id": row.repository,
                "due_at": due_at,
                "tip": row.commit,
                "first_push_at": due_at if first is row.due_at else None if first is None else stamp(first),
                "after_deletion": row.after_deletion,
            }
        )
    return json.dumps(listed)


__all__ = ["Collapsed", "Pushed", "collapse", "stamper", "write_pushes"]
