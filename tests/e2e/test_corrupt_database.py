"""A SQLite catalog damaged in the middle of its file: not ready, sync fails, and every answer says so.

The catalog is built by ``catalog-sync sync`` over real git repositories; then pages past the header
are overwritten, as a failing disk or a bad copy would. Before, ``/readyz`` answered 200, ``sync``
exited 0 and reads answered "unavailable" for good; now each names the damaged file.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from werkzeug.test import TestResponse

from benchmarks.fleet import generate_fleet
from catalog_sync.cli import build_app, open_store
from catalog_sync.config import load_settings
from catalog_sync.store import integrity
from catalog_sync.store.engine import open_engine
from tests.fixtures.cli import catalog_sync

PAGE = 4096
BY_QUERY = "/api/catalog/entities/by-query?filter=kind=product&limit=50"


def synced_catalog(tmp_path: Path) -> tuple[Path, Path]:
    """A configuration and the SQLite catalog it names, synced from 80 real repositories."""
    fleet = generate_fleet(tmp_path / "fleet", 80, seed=5)
    db = tmp_path / "catalog.db"
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{db}",
                "sources": [{"name": "fleet", "type": "local", "path": str(fleet.root)}],
            }
        )
    )
    first = catalog_sync("sync", "--config", str(config), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return config, db


def damage(db: Path, first_page: int = 3) -> None:
    """Overwrite the start of every page from ``first_page`` on (page 1 holds the header and schema)."""
    pages = db.stat().st_size // PAGE
    assert pages > first_page + 10
    with db.open("r+b") as handle:
        for page in range(first_page, pages + 1):
            handle.seek((page - 1) * PAGE)
            handle.write(b"\xa5" * 64)


def test_a_damaged_catalog_is_not_ready_stops_sync_and_says_so_naming_the_file(tmp_path: Path) -> None:
    config, db = synced_catalog(tmp_path)
    settings = load_settings(str(config))
    engine = open_store(settings, serving=True)
    client = build_app(settings, engine).test_client()
    assert client.get("/readyz").status_code == 200
    assert client.get(BY_QUERY).status_code == 200

    damage(db)
    engine.dispose()  # pages cached by pooled connections would hide the damage from this test

    read = client.get(BY_QUERY)
    assert read.status_code == 503
    error = read.get_json()["error"]
    assert error["name"] == "ServiceUnavailableError"
    assert error["message"].startswith(f"database file {db} is corrupt: database disk image is malformed;")
    assert "restore it from a backup" in error["message"]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["error"]["message"].startswith(f"database file {db} is corrupt: ")

    again = catalog_sync("sync", "--config", str(config), cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.startswith(f"catalog-sync: database file {db} is corrupt: ")
    assert "Traceback" not in again.stderr
    engine.dispose()


def test_damage_no_request_has_met_is_found_by_the_periodic_check_and_a_restore_clears_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, db = synced_catalog(tmp_path)
    backup = tmp_path / "backup.db"
    shutil.copyfile(db, backup)
    settings = load_settings(str(config))
    engine = open_store(settings, serving=True)
    client = build_app(settings, engine).test_client()
    assert client.get("/readyz").status_code == 200

    damage(db, first_page=db.stat().st_size // PAGE // 2)
    engine.dispose()
    monkeypatch.setattr(integrity, "CHECK_SECONDS", 0.0)
    monkeypatch.setattr(integrity, "CORRUPT_RECHECK_SECONDS", 0.0)
    message = eventually(lambda: client.get("/readyz"), lambda r: r.status_code == 503).get_json()
    assert message["error"]["message"].startswith(
        f"database file {db} is corrupt: PRAGMA quick_check found: "
    )

    shutil.copyfile(backup, db)  # the operator restores the file; the server comes back by itself
    engine.dispose()
    eventually(lambda: client.get("/readyz"), lambda r: r.status_code == 200)
    assert client.get(BY_QUERY).status_code == 200
    engine.dispose()


def test_a_file_that_is_not_a_database_is_named_at_start(tmp_path: Path) -> None:
    config, db = synced_catalog(tmp_path)
    with db.open("r+b") as handle:
        handle.write(b"this is not SQLite")
    result = catalog_sync("sync", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"catalog-sync: database file {db} is corrupt: file is not a database;")


def eventually(
    action: Callable[[], TestResponse], done: Callable[[TestResponse], bool], seconds: float = 20.0
) -> TestResponse:
    """Repeat ``action`` until ``done`` holds of its answer (a check runs in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = action()
        if done(answer) or time.monotonic() > deadline:
            assert done(answer), answer
            return answer
        time.sleep(0.05)


def damage_inside_records(db: Path) -> int:
    """Overwrite bytes inside stored entity documents, leaving every page's structure intact (a bit
    flip in a record's payload, which SQLite's own checks cannot see); answers how many were hit."""
    data = bytearray(db.read_bytes())
    starts = [index for index in range(len(data)) if data.startswith(b'{"apiVersion"', index)]
    for start in starts[::7]:
        data[start] = ord("~")
    db.write_bytes(bytes(data))
    return len(starts[::7])


def test_damage_inside_stored_documents_is_found_and_named_like_damaged_pages(tmp_path: Path) -> None:
    config, db = synced_catalog(tmp_path)
    assert damage_inside_records(db) > 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone() == ("ok",), "the pages themselves look sound"

    again = catalog_sync("sync", "--config", str(config), cwd=tmp_path)

    assert again.returncode == 1
    assert again.stderr.startswith(f"catalog-sync: database file {db} is corrupt: ")
    assert "entities.body" in again.stderr
    assert "Traceback" not in again.stderr
    settings = load_settings(str(config))
    engine = open_engine(settings.database, serving=True)
    try:
        ready = build_app(settings, engine).test_client().get("/readyz")
        assert ready.status_code == 503
        message = ready.get_json()["error"]["message"]
        assert message.startswith(f"database file {db} is corrupt: ")
        assert "entities.body" in message
    finally:
        engine.dispose()


def test_a_stored_text_that_is_no_longer_utf8_is_found_and_named(tmp_path: Path) -> None:
    """A byte of a description turned into 0xff: the JSON still parses, but no read of that row can
    decode it; before, reads of it answered "unavailable" for good while /readyz said ready."""
    config, db = synced_catalog(tmp_path)
    data = bytearray(db.read_bytes())
    start = data.index(b'"description":"') + len(b'"description":"')
    data[start] = 0xFF
    db.write_bytes(bytes(data))
    settings = load_settings(str(config))
    engine = open_engine(settings.database, serving=True)
    try:
        read = build_app(settings, engine).test_client().get(BY_QUERY.replace("limit=50", "limit=500"))
        assert read.status_code == 503
        assert read.get_json()["error"]["message"].startswith(f"database file {db} is corrupt: ")
    finally:
        engine.dispose()

    again = catalog_sync("sync", "--config", str(config), cwd=tmp_path)

    assert again.returncode == 1
    assert again.stderr.startswith(f"catalog-sync: database file {db} is corrupt: ")
    assert "is not valid UTF-8" in again.stderr
