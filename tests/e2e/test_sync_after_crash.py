"""After a pass dies mid-way, the next `catalog-sync sync` says what happened, on SQLite and PostgreSQL.

A SIGKILLed pass once stayed ``running`` forever, and the next one-off sync skipped its claimed
repositories for a whole lease, exiting 0 with "synced 0 repositories" and no word of why.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, func, select

from benchmarks.fleet import generate_fleet
from catalog_sync.cli import build_app, build_sync_engine
from catalog_sync.config import parse_settings
from catalog_sync.store import repos as repo_store
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.store.tables import repositories, sources, sync_runs
from catalog_sync.sync.runs import process_space
from tests.fixtures.postgres import create_database, drop_database

OTHER_HOST_WORKER = "worker-elsewhere.example:4242:cafebabe"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database that subprocesses can open: a SQLite file or a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalog.db'}"
        engine = open_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    cluster = request.getfixturevalue("postgres_cluster")
    url = create_database(cluster)
    yield url
    drop_database(cluster, url)


def write_config(tmp_path: Path, url: str, fleet: Path) -> Path:
    config = tmp_path / "catalog-sync.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": url,
                "sources": [{"name": "fleet", "type": "local", "path": str(fleet)}],
                "sync": {"lease_seconds": 600, "concurrency": 1},
            }
        )
    )
    return config


def sync_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "catalog_sync", "sync", "--config", str(config)]


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_SYNC_")}


def kill_once_claimed(config: Path, engine: Engine) -> int:
    """Start a pass, SIGKILL it once it holds its claims and before it ends; answer how many it held."""
    proc = subprocess.Popen(
        sync_command(config),
        cwd=config.parent,
        env=environment(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    claimed = 0
    while time.monotonic() < deadline and proc.poll() is None and not claimed:
        with engine.connect() as conn:
            claimed = conn.execute(
                select(func.count()).select_from(repositories).where(repositories.c.claimed_by.is_not(None))
            ).scalar_one()
        time.sleep(0.01)
    assert proc.poll() is None, "the pass finished before it could be killed; use a larger fleet"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return int(claimed)


def test_the_next_sync_closes_a_killed_pass_as_aborted_and_reads_what_it_held(
    database_url: str, tmp_path: Path
) -> None:
    fleet = generate_fleet(tmp_path / "fleet", 300, seed=5)
    config = write_config(tmp_path, database_url, fleet.root)
    engine = open_engine(database_url)
    try:
        held = kill_once_claimed(config, engine)
        with engine.connect() as conn:
            assert conn.execute(select(sync_runs.c.result)).scalars().all() == ["running"]

        result = subprocess.run(
            sync_command(config), cwd=tmp_path, env=environment(), capture_output=True, text=True, timeout=300
        )

        assert result.returncode == 0, result.stderr
        assert "sync run 1 closed as aborted: the process running this pass" in result.stdout
        assert f"{held} repositories it had claimed were given back" in result.stdout
        assert f"synced {fleet.repositories} repositories" in result.stdout
        settings = parse_settings(yaml.safe_load(config.read_text()), str(tmp_path), environ={})
        runs = build_app(settings, engine).test_client().get("/api/sync/runs").get_json()
        assert [(r["id"], r["result"]) for r in runs["items"]] == [(2, "ok"), (1, "aborted")]
        assert "stopped before the pass ended" in runs["items"][1]["message"]
    finally:
        engine.dispose()


def test_a_sync_says_which_repositories_another_worker_holds_and_until_when(
    database_url: str, tmp_path: Path
) -> None:
    fleet = generate_fleet(tmp_path / "fleet", 12, seed=6)
    config = write_config(tmp_path, database_url, fleet.root)
    assert subprocess.run(sync_command(config), cwd=tmp_path, env=environment(), timeout=300).returncode == 0
    engine = open_engine(database_url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            source_id = conn.execute(select(sources.c.id)).scalar_one()
            conn.execute(repositories.update().values(next_sync_at=now))
            run_id = repo_store.start_run(conn, OTHER_HOST_WORKER, now)
            taken = repo_store.claim_due(
                conn, OTHER_HOST_WORKER, now=now, lease_seconds=600, limit=5, source_ids=[source_id]
            )
        assert len(taken) == 5

        text = subprocess.run(
            sync_command(config), cwd=tmp_path, env=environment(), capture_output=True, text=True, timeout=300
        )
        data = subprocess.run(
            [*sync_command(config), "--format", "json"],
            cwd=tmp_path,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=300,
        )

        until = (now + timedelta(seconds=600)).strftime("%H:%M:%S")
        assert text.returncode == 0, text.stderr
        assert f"synced {fleet.repositories - 5} repositories" in text.stdout
        assert f"5 repositories skipped: claimed by {OTHER_HOST_WORKER} until {until} UTC" in text.stdout
        skipped = json.loads(data.stdout)["skipped"]
        assert [(s["holder"], s["repositories"]) for s in skipped] == [(OTHER_HOST_WORKER, 5)]
        with engine.connect() as conn:
            assert conn.execute(select(sync_runs.c.result).where(sync_runs.c.id == run_id)).scalar_one() == (
                "running"
            ), "a pass on another host with a live lease is not closed"
    finally:
        engine.dispose()


def test_a_pass_of_an_earlier_process_with_this_process_id_is_closed(
    database_url: str, tmp_path: Path
) -> None:
    """A process restarted in the same process space may get the dead one's process id (PID 1 of a
    container whose worker is restarted by its supervisor): the dead pass names this very process,
    which is not the one that ran it."""
    fleet = generate_fleet(tmp_path / "fleet", 12, seed=6)
    config = write_config(tmp_path, database_url, fleet.root)
    settings = parse_settings(yaml.safe_load(config.read_text()), str(tmp_path), environ={})
    engine = open_engine(database_url)
    before_restart = f"{process_space()}:{os.getpid()}:0ddc0de5"
    try:
        build_sync_engine(settings, engine).run_pass(everything=True)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            source_id = conn.execute(select(sources.c.id)).scalar_one()
            conn.execute(repositories.update().values(next_sync_at=now))
            run_id = repo_store.start_run(conn, before_restart, now)
            taken = repo_store.claim_due(
                conn, before_restart, now=now, lease_seconds=600, limit=5, source_ids=[source_id]
            )
        assert len(taken) == 5

        summary = build_sync_engine(settings, engine).run_pass(everything=True)

        notes = "\n".join(summary.notes())
        closed = f"sync run {run_id} closed as aborted: the process running this pass ({before_restart})"
        assert closed in notes
        assert "skipped" not in notes
        assert summary.repositories == fleet.repositories
        with engine.connect() as conn:
            assert conn.execute(select(sync_runs.c.result).where(sync_runs.c.id == run_id)).scalar_one() == (
                "aborted"
            )
    finally:
        engine.dispose()
