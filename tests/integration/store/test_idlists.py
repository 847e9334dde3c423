"""Id lists sent as one parameter, on SQLite and PostgreSQL: a fleet's worth of ids, matched exactly."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, literal, select

from catalog_sync.store.idlists import among


def count_among(engine: Engine, upto: int, ids: object) -> int:
    numbers = select(literal(1).label("x")).cte("numbers", recursive=True)
    numbers = numbers.union_all(select(numbers.c.x + 1).where(numbers.c.x < upto))
    with engine.connect() as conn:
        stmt = select(func.count()).select_from(numbers).where(among(conn, numbers.c.x, ids))  # type: ignore[arg-type]
        return int(conn.execute(stmt).scalar_one())


def test_more_ids_than_sqlite_takes_parameters_are_matched_exactly(store_engine: Engine) -> None:
    odd = range(1, 80_001, 2)  # 40,000 ids: over SQLite's bound of 32,766 parameters
    assert count_among(store_engine, 60_000, odd) == 30_000
    assert count_among(store_engine, 10, [3, 3, 7, 99]) == 2  # repeated and absent ids
    assert count_among(store_engine, 10, []) == 0


def test_an_id_that_is_not_an_integer_is_refused_before_any_statement(store_engine: Engine) -> None:
    with pytest.raises(ValueError, match="invalid literal for int"):
        count_among(store_engine, 10, [1, "2) OR (1=1"])
