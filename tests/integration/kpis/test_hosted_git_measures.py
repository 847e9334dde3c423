"""``git`` KPIs of repositories discovered on GitHub and GitLab, against local hosts that serve real git:
the values are the ones a ``git`` source gives for the same repository, the history is read only for
repositories that declare a ``git`` KPI, and only when their tip moved."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from catalog_sync.config import KpiSettings
from catalog_sync.kpis import Measurer
from catalog_sync.sources.hostedhistory import HISTORY_FILE
from catalog_sync.store.base import Database
from catalog_sync.store.engine import open_engine
from catalog_sync.store.kpis import SqlKpiStore
from catalog_sync.store.migrate import upgrade
from tests.fixtures.fakegithub import FakeGitHub, FakeRepo, serving_orgs
from tests.fixtures.fakegitlab import FakeGitLab
from tests.fixtures.gitrepos import GitRemote
from tests.integration.conftest import Catalog, product_yaml

NOW = datetime.now(UTC).replace(microsecond=0)
GITHUB_TOKEN = "ghp_" + "HistT0k3n" * 4
MEASURED = """\
apiVersion: catalog/v1
kind: Product
metadata: {name: NAME}
spec:
  type: service
  lifecycle: production
  owner: payments
  kpis:
    - {name: Releases, id: releases, category: speed-to-market, target: 1, window: 30d,
       measure: {git: release-frequency}}
    - {name: Lead time, id: lead, category: speed-to-market, target: 7, direction: at-most,
       window: 60d, measure: {"git": "lead-time-for-changes"}}
    - {name: Changes, id: changes, category: team-performance, target: 3, window: 30d,
       measure: {git: change-frequency}}
"""
EXPECTED = {"releases": 1.0, "lead": 3.8, "changes": 4.0}
"""One release in 30 days (v1.1); v1.0 shipped a (4 days) and b (0), v1.1 c (10), d (5) and e (0):
19 days over 5 changes; c, d, e and the descriptor's commit in 30 days."""
VALUES: dict[str, Any] = {kpi: (pytest.approx(value), None) for kpi, value in EXPECTED.items()}
"""``EXPECTED`` as a round stores it: each value, no reason."""


LOCATION = """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: services}
spec:
  targets: [./services/payments.yaml]
"""


def write_history(remote: GitRemote, name: str, *, through_location: bool = False) -> str:
    """Replace the host's branch with a history of releases over four months; answer its tip. The
    Product is in ``catalog-info.yaml``, or, ``through_location``, in a file outside the patterns that
    a Location there names."""
    work = remote.work
    work.git("checkout", "--quiet", "--orphan", "history")
    work.git("rm", "-r", "-f", "--quiet", "--ignore-unmatch", ".")

    def at(days: int, message: str) -> None:
        work.commit(message, files={"code.txt": message}, when=NOW - timedelta(days=days))

    at(120, "ancient")
    work.git("tag", "v0.9")  # outside every window and outside the history read
    at(40, "a")
    at(36, "b")
    work.git("tag", "v1.0")
    at(20, "c")
    at(15, "d")
    work.git("tag", "build-77")  # no release: the pattern is v*
    at(10, "e")
    work.git("tag", "-a", "v1.1", "-m", "release 1.1")
    product = MEASURED.replace("NAME", name)
    files = {"catalog-info.yaml": LOCATION, "services/payments.yaml": product} if through_location else {}
    tip = work.commit("describe", files=files or {"catalog-info.yaml": product}, when=NOW - timedelta(days=2))
    work.git("checkout", "--quiet", "-B", "main")
    work.git("push", "--quiet", "--force", "origin", "main:main")
    work.git("push", "--quiet", "--force", "origin", "--tags")
    return tip


def measured(engine: Engine) -> dict[str, tuple[float | None, str | None]]:
    """One measuring round, then each KPI's value and reason, by id."""
    store = SqlKpiStore(Database(engine))
    Measurer(KpiSettings(), store).run_round()
    with Database(engine).reading() as tx:
        states = store.states(tx)
    return {s.declared.kpi_id: (s.stored.value, s.stored.error) if s.stored else (None, None) for s in states}


def catalog_at(root: Path, config: dict[str, Any]) -> Catalog:
    """A catalog on its own SQLite database with ``config``."""
    root.mkdir(parents=True)
    engine = open_engine(f"sqlite:///{root / 'catalog.db'}")
    upgrade(engine)
    catalog = Catalog(root, engine)
    catalog.config = config
    return catalog


def as_git_source(root: Path, remote: GitRemote) -> dict[str, tuple[float | None, str | None]]:
    """The values a ``git`` source (a full clone) gives for the same repository."""
    source = {"name": "plain", "type": "git", "url": remote.url, "branch": "main"}
    catalog = catalog_at(root, {"sources": [source], "sync": {"allowed_protocols": ["file"]}})
    try:
        assert catalog.sync().sources[0]["error"] is None
        return measured(catalog.engine)
    finally:
        catalog.engine.dispose()


def history_asks(bodies: list[tuple[str, bytes]], name: str) -> int:
    """Fetches of a window's history (``deepen-since``) the host was asked for ``name``."""
    return sum(1 for who, body in bodies if who == name and b"deepen-since" in body)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(
        tmp_path / "hub", monkeypatch, ("CATALOG_TEST_GITHUB_TOKEN", GITHUB_TOKEN), "acme"
    ) as fake:
        yield fake


def github_catalog(root: Path, hub: FakeGitHub) -> Catalog:
    source = {
        "name": "acme",
        "type": "github",
        "org": "acme",
        "api_url": hub.api_url,
        "auth": {"token_env": "CATALOG_TEST_GITHUB_TOKEN"},
    }
    # Scans inline: a scanning pool forked from this process would inherit the fake host's sockets.
    return catalog_at(root, {"sources": [source], "sync": {"allowed_protocols": ["http"], "concurrency": 1}})


def gitlab_catalog(root: Path, gitlab: FakeGitLab) -> Catalog:
    source = {
        "name": "acme-gl",
        "type": "gitlab",
        "group": "acme",
        "api_url": gitlab.api_url,
        "auth": {"token_env": "GITLAB_TOKEN"},
    }
    return catalog_at(root, {"sources": [source], "sync": {"allowed_protocols": ["http"], "concurrency": 1}})


def pushable(repo: FakeRepo) -> GitRemote:
    """The clone a test pushes history through (repositories made by ``add_repo`` have one)."""
    assert isinstance(repo.remote, GitRemote)
    return repo.remote


def test_a_github_repository_measures_as_the_same_repository_read_by_a_git_source(
    tmp_path: Path, hub: FakeGitHub
) -> None:
    repo = hub.add_repo("acme", "pay", {"README.md": "# pay\n"})
    write_history(pushable(repo), "pay")
    hub.touch(repo)
    catalog = github_catalog(tmp_path / "hosted", hub)

    assert catalog.sync().sources[0]["error"] is None
    hosted = measured(catalog.engine)

    assert hosted == VALUES
    assert hosted == as_git_source(tmp_path / "plain", pushable(repo))
    facts = catalog.repository("acme/pay")["facts"]
    assert '"history_gap":null' in facts
    catalog.engine.dispose()


def test_a_gitlab_project_measures_as_the_same_repository_read_by_a_git_source(
    tmp_path: Path, gitlab: FakeGitLab
) -> None:
    project = gitlab.add_project("acme/platform", "pay")
    write_history(project.remote, "pay")
    catalog = gitlab_catalog(tmp_path / "hosted", gitlab)

    assert catalog.sync().sources[0]["error"] is None
    hosted = measured(catalog.engine)

    assert hosted == VALUES
    assert hosted == as_git_source(tmp_path / "plain", project.remote)
    catalog.engine.dispose()


@pytest.mark.parametrize("truncated", [False, True], ids=["api-tree", "truncated-tree"])
def test_a_git_kpi_of_a_product_a_location_names_is_measured(
    tmp_path: Path, hub: FakeGitHub, truncated: bool
) -> None:
    repo = hub.add_repo("acme", "pay", {"README.md": "# pay\n"})
    write_history(pushable(repo), "pay", through_location=True)
    hub.touch(repo)
    if truncated:
        hub.tree_limit = 1  # the tip is read by a shallow fetch, and searched there
    catalog = github_catalog(tmp_path / "hosted", hub)

    assert catalog.sync().sources[0]["error"] is None

    assert catalog.entity("product:default/pay") is not None
    assert history_asks(hub.git_bodies, "acme/pay") == 1
    assert measured(catalog.engine) == VALUES
    assert any("/git/blobs/" in s.path for s in hub.api_requests()) != truncated
    catalog.engine.dispose()


def test_a_gitlab_project_measures_a_git_kpi_a_location_names(tmp_path: Path, gitlab: FakeGitLab) -> None:
    project = gitlab.add_project("acme", "pay")
    write_history(project.remote, "pay", through_location=True)
    catalog = gitlab_catalog(tmp_path / "hosted", gitlab)

    assert catalog.sync().sources[0]["error"] is None

    assert history_asks(gitlab.git_bodies, "acme/pay") == 1
    assert measured(catalog.engine) == VALUES
    catalog.engine.dispose()


def test_history_is_read_once_per_tip_and_never_for_repositories_without_git_kpis(
    tmp_path: Path, hub: FakeGitHub
) -> None:
    pay = hub.add_repo("acme", "pay", {"README.md": "# pay\n"})
    write_history(pushable(pay), "pay")
    hub.touch(pay)
    plain = hub.add_repo("acme", "plain", {"catalog-info.yaml": product_yaml("plain")})
    catalog = github_catalog(tmp_path / "hosted", hub)

    catalog.sync()
    assert history_asks(hub.git_bodies, "acme/pay") == 1
    assert [s for s in hub.git_requests() if "/plain.git/" in s.path] == []  # read through the API

    hub.touch(pay)  # pushed_at moves, the tip does not
    hub.touch(plain)
    before = len(hub.git_requests())
    catalog.sync()
    assert len(hub.git_requests()) == before  # no fetch, no tag listing

    hub.push(pay, {"code.txt": "f"}, "f")
    catalog.clock.advance(minutes=1)  # the catalog's clock started before the commit was made
    catalog.sync()
    assert history_asks(hub.git_bodies, "acme/pay") == 2
    assert measured(catalog.engine)["changes"] == (5.0, None)
    catalog.engine.dispose()


def test_a_gitlab_project_without_git_kpis_asks_for_no_history(tmp_path: Path, gitlab: FakeGitLab) -> None:
    project = gitlab.add_project("acme", "plain", files={"catalog-info.yaml": product_yaml("plain")})
    catalog = gitlab_catalog(tmp_path / "hosted", gitlab)

    catalog.sync()

    refs_asked = [r for r in gitlab.requests if r.path.endswith("/info/refs")]
    assert len(refs_asked) == 1  # the tip's fetch; no ls-remote of the tags
    assert history_asks(gitlab.git_bodies, project.path_with_namespace) == 0
    catalog.engine.dispose()


def test_a_kpi_declared_after_the_history_was_skipped_is_measured_from_the_next_commit(
    tmp_path: Path, gitlab: FakeGitLab
) -> None:
    project = gitlab.add_project("acme", "pay", files={"catalog-info.yaml": product_yaml("pay")})
    catalog = gitlab_catalog(tmp_path / "hosted", gitlab)
    catalog.sync()
    assert history_asks(gitlab.git_bodies, "acme/pay") == 0

    write_history(project.remote, "pay")
    gitlab.touch(project)
    catalog.sync()

    assert measured(catalog.engine) == VALUES
    assert history_asks(gitlab.git_bodies, "acme/pay") == 1
    catalog.engine.dispose()


def test_a_history_over_the_size_limit_leaves_the_kpis_unknown_with_the_reason(
    tmp_path: Path, hub: FakeGitHub
) -> None:
    repo = hub.add_repo("acme", "pay", {"README.md": "# pay\n"})
    write_history(pushable(repo), "pay")
    data = {"data.bin": os.urandom(3 << 20)}  # incompressible: the window's commits weigh 3 MiB
    pushable(repo).work.commit("data", files=data, when=NOW - timedelta(days=1))
    pushable(repo).work.git("push", "--quiet", "origin", "main:main")
    hub.touch(repo)
    catalog = github_catalog(tmp_path / "hosted", hub)
    catalog.config["sync"]["max_repository_bytes"] = 1 << 20

    assert catalog.sync().sources[0]["error"] is None

    assert catalog.entity("product:default/pay") is not None  # the descriptors are read all the same
    values = measured(catalog.engine)
    assert set(values) == set(EXPECTED)
    for value, reason in values.values():
        assert value is None
        assert reason is not None
        assert "history of the window could not be read" in reason
        assert "sync.max_repository_bytes" in reason
    catalog.engine.dispose()


def test_a_history_record_damaged_nested_too_deeply_is_read_again(tmp_path: Path, hub: FakeGitHub) -> None:
    """The record of the history read beside a clone is read by the tip thread and the scan; one
    damaged into JSON nested deeper than the parser goes raised a RecursionError (no ``SourceError``)
    there, failing the repository at every pass, where one that does not parse has the history read
    once more."""
    pay = hub.add_repo("acme", "pay", {"README.md": "# pay\n"})
    write_history(pushable(pay), "pay")
    hub.touch(pay)
    catalog = github_catalog(tmp_path / "hosted", hub)
    catalog.sync()
    (record,) = catalog.root.glob(f"**/{HISTORY_FILE}")
    record.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")

    hub.push(pay, {"code.txt": "f"}, "f")
    catalog.clock.advance(minutes=1)  # the catalog's clock started before the commit was made
    summary = catalog.sync()

    assert summary.errors == 0, catalog.repository("acme/pay")["last_error"]
    assert history_asks(hub.git_bodies, "acme/pay") == 2
    assert measured(catalog.engine)["changes"] == (5.0, None)
    catalog.engine.dispose()
