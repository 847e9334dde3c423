"""``id IN (...)`` for thousands of ids, as one bound parameter instead of one per id.

SQLAlchemy renders ``column.in_(ids)`` with a parameter per element, named one by one each time the
statement runs: about 20 µs per id, which for a fleet's worth of repositories costs more than the
database's own work. Here the ids travel as a single value the database unpacks itself: a JSON array
read by ``json_each`` on SQLite, an integer array read by ``unnest`` on PostgreSQL (as a subquery,
so the planner may hash it or probe an index with it, whichever the statement needs).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import BigInteger, ColumnElement, Connection, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY


def among(conn: Connection, column: ColumnElement[int], ids: Iterable[int]) -> ColumnElement[bool]:
    """``column`` is one of ``ids`` (integers), for statements run on ``conn``."""
    values = [int(i) for i in ids]
    if conn.dialect.name == "postgresql":
        unnested = func.unnest(bindparam(None, values, type_=ARRAY(BigInteger)))
        return column.in_(select(unnested).scalar_subquery())
    if conn.dialect.name == "sqlite":
        unpacked = func.json_each(json.dumps(values))
        return column.in_(select(literal_column("value")).select_from(unpacked).scalar_subquery())
    return column.in_(values)


__all__ = ["among"]
