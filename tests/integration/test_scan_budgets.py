"""A hostile repository (a tree bomb, a scan that never ends) fails alone; the rest of the pass goes on,
on either database, inline and in the child processes that scan for a serving process."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from catalog_sync.cli import build_app, serve_forever
from catalog_sync.config import SourceSettings
from catalog_sync.sources.base import PathSelection, Repository, Snapshot, TreeEntry
from catalog_sync.sources.budget import ScanBudget
from catalog_sync.sources.local import LocalSource
from catalog_sync.sync import SyncEngine, workers
from tests.fixtures.gitrepos import commit_tree_bomb
from tests.fixtures.snapshots import WrappedRepository, WrappedSnapshot, WrappedSource
from tests.fixtures.syncstore import sync_store
from tests.integration.conftest import Catalog, product_yaml

BOMB_ERROR = (
    "the repository's tree lists more than 1000 entries where descriptors and facts are looked for "
    "(descriptors.max_tree_entries); nothing was read from it"
)


def _budgeted(catalog: Catalog, **sync: Any) -> None:
    catalog.config["descriptors"] = {"max_tree_entries": 1000}
    catalog.config["sync"] = {"scan_timeout_seconds": 20, **sync}
    catalog.reset_engine()


def _api_repositories(catalog: Catalog) -> dict[str, dict[str, Any]]:
    client = build_app(catalog.settings, catalog.engine).test_client()
    answer = client.get("/api/repositories")
    assert answer.status_code == 200
    return {item["name"]: item for item in answer.get_json()["items"]}


def test_a_tree_bomb_fails_its_repository_alone_and_keeps_its_entities(catalog: Catalog) -> None:
    _budgeted(catalog)
    bomb = catalog.repo("bomb", {"catalog-info.yaml": product_yaml("bomb-product")})
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    assert catalog.sync().errors == 0
    # A million paths from a few kilobytes (a minute and 444 MB unbounded), beside a fine descriptor.
    commit_tree_bomb(bomb, levels=5, files={"catalog-info.yaml": product_yaml("bomb-product")})
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay", description="synced beside the bomb")})
    started = time.monotonic()
    summary = catalog.sync()
    assert time.monotonic() - started < 15
    assert (summary.repositories, summary.errors) == (2, 1)
    listed = _api_repositories(catalog)
    assert listed["bomb"]["state"] == "failing"
    assert [e["message"] for e in listed["bomb"]["errors"]] == [BOMB_ERROR]
    assert listed["pay"]["state"] == "ok"
    assert catalog.entity("product:default/pay")["body"]["metadata"]["description"] == (  # type: ignore[index]
        "synced beside the bomb"
    )
    kept = catalog.entity("product:default/bomb-product")
    assert kept is not None
    assert kept["orphaned_at"] is None


def test_a_bomb_in_a_folder_no_pattern_reaches_costs_nothing(catalog: Catalog) -> None:
    _budgeted(catalog)
    catalog.config["descriptors"]["patterns"] = ["catalog-info.yaml", ".catalog/*.yaml"]
    bomb = catalog.repo("vendored", {"README.md": "x\n"})
    commit_tree_bomb(bomb, levels=8, at="third_party/bomb", files={".catalog/a.yaml": product_yaml("a")})
    assert catalog.sync().errors == 0
    assert catalog.repository("vendored")["state"] == "ok"
    assert catalog.entity("product:default/a") is not None


class StuckSnapshot(WrappedSnapshot):
    """A real snapshot whose tree listing never returns: a scan stuck where it cannot look at a clock."""

    def __init__(self, inner: Snapshot, pid_file: Path) -> None:
        super().__init__(inner)
        self.pid_file = pid_file

    def tree(
        self, selection: PathSelection | None = None, budget: ScanBudget | None = None
    ) -> list[TreeEntry]:
        self.pid_file.write_text(str(os.getpid()))
        while True:
            time.sleep(0.05)


class StuckRepository(WrappedRepository):
    """One repository of a real local source whose scans get stuck; picklable, for child processes."""

    def __init__(self, inner: Repository, pid_file: Path) -> None:
        super().__init__(inner)
        self.pid_file = pid_file

    def snapshot(self, commit: str) -> Snapshot:
        return StuckSnapshot(self.inner.snapshot(commit), self.pid_file)


def test_a_scan_stuck_in_a_child_process_is_stopped_and_fails_alone(catalog: Catalog, tmp_path: Path) -> None:
    _budgeted(catalog, scan_timeout_seconds=0.5)
    catalog.repo("stuck", {"catalog-info.yaml": product_yaml("stuck")})
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    pid_file = tmp_path / "scanned-by"
    source = WrappedSource(
        LocalSource(SourceSettings("fleet", "local", path=str(catalog.fleet)), "/"),
        lambda r: StuckRepository(r, pid_file) if r.info.name == "stuck" else r,
    )
    engine = SyncEngine(catalog.settings, sync_store(catalog.engine), sources=[source], isolated=True)
    try:
        started = time.monotonic()
        summary = engine.run_pass()
        assert time.monotonic() - started < 10
    finally:
        engine.close()
    assert (summary.repositories, summary.errors) == (2, 1)
    assert int(pid_file.read_text()) != os.getpid()
    stuck = catalog.repository("stuck")
    assert stuck["state"] == "failing"
    assert stuck["last_error"] == (
        "scanning the repository took longer than 0.5 seconds (sync.scan_timeout_seconds); "
        "nothing was read from it"
    )
    assert catalog.repository("pay")["state"] == "ok"
    assert catalog.entity("product:default/pay") is not None


@pytest.mark.parametrize("isolated", [False, True], ids=["inline", "isolated"])
def test_the_bomb_fails_the_same_way_inline_and_in_child_processes(catalog: Catalog, isolated: bool) -> None:
    _budgeted(catalog)
    commit_tree_bomb(catalog.repo("bomb", {"README.md": "x\n"}), levels=8)
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    engine = SyncEngine(catalog.settings, sync_store(catalog.engine), isolated=isolated)
    try:
        summary = engine.run_pass()
    finally:
        engine.close()
    assert (summary.repositories, summary.errors) == (2, 1)
    assert catalog.repository("bomb")["last_error"] == BOMB_ERROR
    assert catalog.repository("pay")["state"] == "ok"


def test_under_serve_scans_run_outside_the_api_process(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API's process never scans: a scan here would be a call of this process's scan_repository."""
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    scanned_here: list[int] = []
    inline = workers.scan_repository

    def recording(task: workers.ScanTask, started: Any = None) -> workers.ScanOutcome:
        scanned_here.append(task.repository_id)
        return inline(task, started)

    monkeypatch.setattr(workers, "scan_repository", recording)

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and catalog.refs() != {"product:default/pay"}:
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)  # serve stops on SIGTERM, as under a process manager

    previous = signal.getsignal(signal.SIGTERM)
    try:
        banner = lambda _url: threading.Thread(target=watch, daemon=True).start()  # noqa: E731
        serve_forever(catalog.settings, catalog.engine, host="127.0.0.1", port=0, sync=True, banner=banner)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert catalog.refs() == {"product:default/pay"}
    assert catalog.repository("pay")["state"] == "ok"
    assert scanned_here == []
