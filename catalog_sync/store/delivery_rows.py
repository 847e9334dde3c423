"""A group's delivery ids stored in one statement, and its repositories read in one, each with one
JSON parameter.

A group of webhook deliveries (``deliveries.record_plain``) inserts one row per new delivery id and
reads every repository its pushes name. Executed with a list of rows, SQLAlchemy renders one
multi-row INSERT per batch size and psycopg parses that long statement again on every call (it
caches only short queries): most of the CPU of recording a group. An expanding ``IN`` likewise
renders one parameter per key. Here each statement's text never changes: its rows are bound as one
JSON text (``json.dumps`` is C) that the database unpacks (``json_array_elements`` on PostgreSQL,
``json_each`` on SQLite), as ``push_groups`` does for the group's pushes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, text

from catalog_sync.store.push_groups import stamper
from catalog_sync.store.tables import webhook_deliveries

_INSERT = {
    "postgresql": text(
        """
        INSERT INTO webhook_deliveries (provider, delivery_id, event, result, repository_id, received_at)
        SELECT r.v ->> 0, r.v ->> 1, r.v ->> 2, r.v ->> 3,
            CAST(r.v ->> 4 AS bigint), CAST(r.v ->> 5 AS timestamptz)
        FROM json_array_elements(CAST(:rows AS json)) WITH ORDINALITY AS r(v, n)
        ORDER BY r.n
        ON CONFLICT (provider, delivery_id) DO UPDATE
        SET event = EXCLUDED.event, result = EXCLUDED.result,
            repository_id = EXCLUDED.repository_id, received_at = EXCLUDED.received_at
        WHERE webhook_deliveries.result = 'ignored'
        RETURNING provider, delivery_id
        """
    ),
    "sqlite": text(
        """
        INSERT INTO webhook_deliveries (provider, delivery_id, event, result, repository_id, received_at)
        SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5
        FROM json_each(:rows)
        WHERE true
        ORDER BY key
        ON CONFLICT (provider, delivery_id) DO UPDATE
        SET event = excluded.event, result = excluded.result,
            repository_id = excluded.repository_id, received_at = excluded.received_at
        WHERE webhook_deliveries.result = 'ignored'
        RETURNING provider, delivery_id
        """
    ),
}
"""Each row is a JSON array of the columns in order (``_as_json``): shorter to write and to read than
an object naming them. Rows are inserted in the order given (``ORDER BY`` the array's position), so
two groups inserting the same ids at once wait for each other in one order, never in a cycle. SQLite
reads ``ON`` after a bare ``FROM`` as a join's constraint: the ``WHERE true`` ends the ``SELECT``
before the upsert clause. ``->>`` gives SQL text, integer or NULL, which SQLite stores as it would
the bound values (``received_at`` is already the text SQLAlchemy stores there). A known id is written
over only when its delivery was ignored (``deliveries.remember`` says why)."""


def insert_new(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """Insert ``rows`` (each naming every column of ``webhook_deliveries``; no id twice), in their
    order, in one statement; the (provider, delivery_id) of those inserted (or written over an ignored
    one), the others being stored already."""
    if not rows:
        return set()
    inserted = conn.execute(_INSERT[conn.dialect.name], {"rows": _as_json(rows, conn)}).all()
    return {(provider, delivery_id) for provider, delivery_id in inserted}


def _as_json(rows: Sequence[Mapping[str, Any]], conn: Connection) -> str:
    """The rows as ``_INSERT`` reads them, times as the text the database reads (``stamper``)."""
    stamp = stamper(conn, webhook_deliveries.c.received_at)
    return json.dumps(
        [
            [
                r["provider"],
                r["delivery_id"],
                r["event"],
                r["result"],
                r["repository_id"],
                stamp(r["received_at"]),
            ]
            for r in rows
        ]
    )


_FIND_MANY = {
    "postgresql": text(
        "SELECT id, key, branch FROM repositories"
        " WHERE key = ANY(ARRAY(SELECT json_array_elements_text(CAST(:keys AS json))))"
        " AND removed_at IS NULL ORDER BY id"
    ),
    "sqlite": text(
        "SELECT id, key, branch FROM repositories"
        " WHERE key IN (SELECT value FROM json_each(:keys)) AND +removed_at IS NULL ORDER BY id"
    ),
}
"""Each key is answered from the index on ``repositories.key``. On PostgreSQL the keys are made an
array, whose elements the index is probed with, rather than joined as a function's rows (which the
planner guesses at a hundred). SQLite, without statistics, would rather search the index on
``removed_at``, which reads every repository not removed: the unary ``+`` keeps it from using that
index for this condition, so it probes the key index once per key."""


def find_keyed(conn: Connection, keys: Sequence[str]) -> Iterable[Row[Any]]:
    """The repositories not removed whose key is one of ``keys``, in id order (``id``, ``key``,
    ``branch``)."""
    return conn.execute(_FIND_MANY[conn.dialect.name], {"keys": json.dumps(keys)})


__all__ = ["find_keyed", "insert_new"]
