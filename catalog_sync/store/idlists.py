"""``id IN (...)`` for thousands of ids, as one bound parameter instead of one per id.

SQLAlchemy renders ``column.in_(ids)`` with a parameter per element, named one by one each time the
statement runs: about 20 µs per id, which for a fleet's worth of repositories costs more than the
database's own work. Here the ids travel as a single value the database unpacks itself: a JSON array
read by ``json_each`` on SQLite, an integer array read by ``unnest`` on PostgreSQL (as a subquery,
so the planner may hash it or probe an index with it, whichever the statement needs).

``among`` binds the ids into the condition, for a statement built where it runs; ``among_bound`` names
the parameter instead, for a statement built once per dialect at import (``DIALECTS``), whose ids are
passed at execution as ``bound_ids`` makes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Connection, String, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY

DIALECTS = ("sqlite", "postgresql")
"""The databases the store runs on, for which statements are built once."""


def among(conn: Connection, column: ColumnElement[int], ids: Iterable[int]) -> ColumnElement[bool]:
    """``column`` is one of ``ids`` (integers), for statements run on ``conn``."""
    dialect = conn.dialect.name
    values = bound_ids(dialect, ids)
    if dialect == "postgresql":
        return _unnested(column, bindparam(None, values, type_=ARRAY(BigInteger)))
    if dialect == "sqlite":
        return _unpacked(column, bindparam(None, values, type_=String))
    return column.in_(values)


def among_bound(dialect: str, column: ColumnElement[int], name: str) -> ColumnElement[bool]:
    """``column`` is one of the ids bound at execution under ``name`` (the value ``bound_ids`` makes
    for ``dialect``): the statement keeps one shape whatever the ids, so it can be built once."""
    if dialect == "postgresql":
        return _unnested(column, bindparam(name, type_=ARRAY(BigInteger)))
    if dialect == "sqlite":
        return _unpacked(column, bindparam(name, type_=String))
    return column.in_(bindparam(name, expanding=True))


def bound_ids(dialect: str, ids: Iterable[int]) -> Any:
    """The value of an ``among_bound`` parameter for ``ids`` on ``dialect``."""
    values = [int(i) for i in ids]
    return json.dumps(values) if dialect == "sqlite" else values


def _unnested(column: ColumnElement[int], array: Any) -> ColumnElement[bool]:
    return column.in_(select(func.unnest(array)).scalar_subquery())


def _unpacked(column: ColumnElement[int], text: Any) -> ColumnElement[bool]:
    unpacked = func.json_each(text)
    return column.in_(select(literal_column("value")).select_from(unpacked).scalar_subquery())


__all__ = ["DIALECTS", "among", "among_bound", "bound_ids"]
