"""Damaged data is its own error: never a refusal to retry row by row, never mistaken for an outage."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from catalog_sync.errors import CorruptDatabaseError, RefusedError
from catalog_sync.store.base import Database, connection_of
from catalog_sync.store.engine import check_ready, open_engine

PAGE = 4096


def test_a_write_that_meets_a_damaged_page_is_corrupt_not_refused_and_readiness_follows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "catalog.db"
    engine = open_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.execute(text("CREATE INDEX notes_body ON notes (body)"))
        connection.execute(
            text("INSERT INTO notes (body) VALUES (:b)"), [{"b": f"note {n} " * 20} for n in range(2000)]
        )
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    check_ready(engine)
    engine.dispose()
    with path.open("r+b") as handle:
        for page in range(3, path.stat().st_size // PAGE + 1):
            handle.seek((page - 1) * PAGE)
            handle.write(b"\x00\xff" * 32)

    with pytest.raises(CorruptDatabaseError) as caught, Database(engine).transaction() as tx:
        connection_of(tx).execute(text("UPDATE notes SET body = 'x' WHERE id > 1000"))
    assert not isinstance(caught.value, RefusedError)
    assert str(caught.value).startswith(f"database file {path} is corrupt: database disk image is malformed;")
    with pytest.raises(CorruptDatabaseError, match=f"database file {path} is corrupt"):
        check_ready(engine)  # marked by the failed write; no check has passed since
    engine.dispose()


def test_an_in_memory_database_has_no_file_to_check() -> None:
    engine = open_engine("sqlite://")
    check_ready(engine)
    check_ready(engine)
    engine.dispose()
