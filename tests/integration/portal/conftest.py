"""The example organisation, plus three repositories that misbehave, synced and scored for real.

Beside ``descriptors/examples`` (built as real git repositories), ``hostile`` holds a product whose
title, description, annotations, links and runbooks try to inject HTML and script, ``wobbly`` a product
whose descriptor breaks after its first sync (kept, with the error at its file and line), and
``leaving`` a product whose descriptor is deleted (an orphan). The first pass is scored three days
ago and the second today, so every scorecard has a trend of two days. The catalog is built once per
test process and only read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from catalog_sync.cli import build_app, open_store
from catalog_sync.config import Settings, parse_settings
from catalog_sync.kpis import Measurer
from catalog_sync.kpis.examples import push_example_values
from catalog_sync.scoring import Scorer
from catalog_sync.sources.examples import build_example_repositories
from catalog_sync.store.base import Database
from catalog_sync.store.kpis import SqlKpiStore
from catalog_sync.store.scoring import SqlScoringStore
from catalog_sync.sync import SyncEngine
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.http import serving
from tests.fixtures.syncstore import sync_store

EXAMPLES = Path(__file__).resolve().parents[3] / "descriptors" / "examples"
SCRIPT_TITLE = '<script>alert("title")</script> Hostile shop'
IMG_DESCRIPTION = '<img src=x onerror="alert(1)"> sells things'

HOSTILE = f"""\
apiVersion: catalog/v1
kind: Product
metadata:
  name: hostile-shop
  title: '{SCRIPT_TITLE}'
  description: '{IMG_DESCRIPTION}'
  annotations: {{acme.example/note: "<b>bold</b>"}}
  links:
    - {{url: "javascript:alert(document.cookie)", title: "Click <me>"}}
    - {{url: "https://docs.example.com/hostile", title: "Real docs"}}
spec:
  type: service
  lifecycle: production
  owner: checkout-team
  tier: 2
  capabilities: [checkout]
  runbooks:
    - {{title: "<script>alert(2)</script>", url: "javascript:alert(3)", automated: false}}
"""

WOBBLY = """\
apiVersion: catalog/v1
kind: Product
metadata:
  name: wobbly
  title: Wobbly service
spec:
  type: service
  lifecycle: %s
  owner: payments-team
  capabilities: [payments]
"""

LEAVING = """\
apiVersion: catalog/v1
kind: Product
metadata: {name: leaving-soon, title: Leaving soon}
spec: {type: service, lifecycle: production, owner: fulfilment-team, capabilities: [fulfilment]}
"""


@dataclass(frozen=True)
class PortalCatalog:
    """Where the synced catalog lives and the settings that built it."""

    settings: Settings
    root: Path


def portal_settings(root: Path, **api: object) -> Settings:
    """Settings for a local source over ``root/repos`` and a SQLite catalog in ``root``."""
    return parse_settings(
        {
            "database": f"sqlite:///{root / 'catalog.db'}",
            "sources": [{"name": "examples", "type": "local", "path": str(root / "repos")}],
            "scorecards": {"trusted_sources": ["examples"]},
            "sync": {"cache_dir": str(root / "cache"), "concurrency": 2},
            "api": {"tokens": ["portal-reader-token-0123456789"], **api},
        },
        str(root),
    )


def sync_and_score(settings: Settings, when: datetime) -> None:
    """One real pass, scored as if at ``when`` (so history gets a point on that day)."""
    engine = open_store(settings)
    try:
        scorer = Scorer(settings, SqlScoringStore(Database(engine)), clock=lambda: when)
        SyncEngine(settings, sync_store(engine), after_pass=[scorer.as_hook()]).run_pass(everything=True)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def portal_catalog(tmp_path_factory: pytest.TempPathFactory) -> PortalCatalog:
    """Two real passes over the example organisation and three extra repositories."""
    root = tmp_path_factory.mktemp("portal-catalog")
    repos = root / "repos"
    build_example_repositories(EXAMPLES, repos)
    hostile = GitRepo(repos / "hostile")
    hostile.commit("add", files={"catalog-info.yaml": HOSTILE})
    wobbly = GitRepo(repos / "wobbly")
    wobbly.commit("add", files={"catalog-info.yaml": WOBBLY % "production", "README.md": "# wobbly\n"})
    leaving = GitRepo(repos / "leaving")
    leaving.commit("add", files={"catalog-info.yaml": LEAVING})
    settings = portal_settings(root)
    now = datetime.now(UTC)
    sync_and_score(settings, now - timedelta(days=3))

    wobbly.commit("break it", files={"catalog-info.yaml": WOBBLY % "someday"})
    leaving.delete("catalog-info.yaml")
    leaving.commit("retire", files={"README.md": "# gone\n"})
    # A README, docs and CI for the web shop move its scores, so the trend is not flat.
    web_shop = GitRepo(repos / "web-shop")
    web_shop.commit(
        "docs and CI",
        files={
            "docs/index.md": "# Web shop\n",
            ".github/workflows/ci.yml": "on: push\n",
            "SECURITY.md": "x\n",
        },
    )
    sync_and_score(settings, now)
    measure_examples(settings)
    return PortalCatalog(settings, root)


def measure_examples(settings: Settings) -> None:
    """The examples' pushed values and one measuring round, as ``catalog-sync demo`` does."""
    engine = open_store(settings)
    try:
        store = SqlKpiStore(Database(engine))
        push_example_values(EXAMPLES / "kpi-values.yaml", store, datetime.now(UTC))
        Measurer(settings.kpis, store).run_round()
    finally:
        engine.dispose()


def portal_app(settings: Settings) -> tuple[Flask, Engine]:
    """The app exactly as ``catalog-sync serve`` builds it, portal included."""
    engine = open_store(settings)
    return build_app(settings, engine), engine


@pytest.fixture(scope="session")
def app(portal_catalog: PortalCatalog) -> Iterator[Flask]:
    """The app over the shared catalog, portal included."""
    built, engine = portal_app(portal_catalog.settings)
    yield built
    engine.dispose()


@pytest.fixture(scope="session")
def base(app: Flask) -> Iterator[str]:
    """The portal's app served on a loopback port, for tests that speak real HTTP to it."""
    with serving(app) as url:
        yield url
