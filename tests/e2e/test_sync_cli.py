"""`catalog-sync sync` as a user runs it: the real program in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from sqlalchemy import create_engine, func, select

from benchmarks.fleet import generate_fleet
from catalog_sync.store.tables import descriptor_files, entities, repositories
from tests.fixtures.cli import catalog_sync
from tests.fixtures.gitrepos import GitRepo
from tests.integration.conftest import product_yaml


def write_config(path: Path, **config: object) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def test_sync_reports_a_json_summary_and_exits_0_despite_bad_descriptors(tmp_path: Path) -> None:
    GitRepo(tmp_path / "repos" / "pay").commit("add", files={"catalog-info.yaml": product_yaml("pay")})
    GitRepo(tmp_path / "repos" / "bad").commit("add", files={"catalog-info.yaml": "kind: [\n"})
    config = write_config(
        tmp_path / "c.yaml",
        database=f"sqlite:///{tmp_path}/c.db",
        sources=[{"name": "local", "type": "local", "path": "repos"}],
    )
    result = catalog_sync("sync", "--config", str(config), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["repositories"], summary["added"], summary["errors"]) == (2, 1, 0)
    assert summary["descriptor_problems"] == 1
    text = catalog_sync("sync", "--config", str(config), cwd=tmp_path)
    assert text.returncode == 0
    assert "synced 2 repositories" in text.stdout
    assert "2 unchanged" in text.stdout


def test_bad_configuration_is_refused_naming_the_key(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.yaml", database=f"sqlite:///{tmp_path}/c.db", sync={"orphan_policy": "shred"}
    )
    result = catalog_sync("sync", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert "sync.orphan_policy" in result.stderr
    assert not (tmp_path / "c.db").exists()
    typo = write_config(tmp_path / "t.yaml", sourcez=[])
    result = catalog_sync("sync", "--config", str(typo), cwd=tmp_path)
    assert (result.returncode, "sourcez: unknown key" in result.stderr) == (1, True)


def test_unreachable_database_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.yaml", database="postgresql+psycopg://catalog:hunter2@127.0.0.1:9/catalog"
    )
    result = catalog_sync("sync", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert "hunter2" not in result.stderr
    assert "127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_pass_killed_midway_leaves_a_consistent_catalog_and_the_next_completes(tmp_path: Path) -> None:
    fleet = generate_fleet(tmp_path / "fleet", 1500, seed=11)
    db = tmp_path / "c.db"
    config = write_config(
        tmp_path / "c.yaml",
        database=f"sqlite:///{db}",
        sources=[{"name": "fleet", "type": "local", "path": str(fleet.root)}],
        sync={"lease_seconds": 600, "concurrency": 2},
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_SYNC_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "catalog_sync", "sync", "--config", str(config)],
        cwd=tmp_path,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    engine = create_engine(f"sqlite:///{db}")
    deadline = time.monotonic() + 60
    synced = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with engine.connect() as conn:
                synced = conn.execute(
                    select(func.count())
                    .select_from(repositories)
                    .where(repositories.c.last_commit.is_not(None))
                ).scalar_one()
        except Exception:  # the schema may not exist yet
            synced = 0
        if synced >= 200:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the pass finished before it could be interrupted; use a larger fleet"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    with engine.connect() as conn:
        done = (
            conn.execute(select(repositories.c.id).where(repositories.c.last_commit.is_not(None)))
            .scalars()
            .all()
        )
        assert 200 <= len(done) < fleet.repositories
        with_entities = set(conn.execute(select(entities.c.repository_id).distinct()).scalars())
        with_files = set(conn.execute(select(descriptor_files.c.repository_id).distinct()).scalars())
        assert with_entities == with_files == set(done), "a repository was half-written"
    # The killed process is gone: its run is closed as aborted and its claims given back at once.
    result = catalog_sync("sync", "--config", str(config), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    aborted = json.loads(result.stdout)["aborted_runs"]
    assert [(a["run"], a["released"] > 0) for a in aborted] == [(1, True)]
    assert "stopped before the pass ended" in aborted[0]["reason"]
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(entities)).scalar_one()
        pending = conn.execute(
            select(func.count()).select_from(repositories).where(repositories.c.last_commit.is_(None))
        ).scalar_one()
    assert count == fleet.products + fleet.teams + fleet.capabilities
    assert pending == 0


def test_the_summary_reads_as_a_sentence_and_counts_the_gaps_left(tmp_path: Path) -> None:
    lonely = (
        "apiVersion: catalog/v1\nkind: Product\nmetadata: {name: lonely}\n"
        "spec: {type: service, lifecycle: production}\n"
    )
    GitRepo(tmp_path / "repos" / "lonely").commit("add", files={"catalog-info.yaml": lonely})
    config = write_config(
        tmp_path / "c.yaml",
        database=f"sqlite:///{tmp_path}/c.db",
        sources=[{"name": "local", "type": "local", "path": "repos/lonely"}],
    )
    text = catalog_sync("sync", "--config", str(config), cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("synced 1 repository in ")
    assert "; 0 conflicts; " in lines[1]
    assert lines[2] == (
        "ownership gaps: 2 (missing_owner 1, product_without_capability 1); "
        "see /gaps in the portal or GET /api/ownership/gaps"
    )
    as_json = json.loads(
        catalog_sync("sync", "--config", str(config), "--format", "json", cwd=tmp_path).stdout
    )
    assert as_json["gaps"] == {"missing_owner": 1, "product_without_capability": 1}
