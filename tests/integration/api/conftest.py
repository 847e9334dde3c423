"""A catalog built by real syncs of real git repositories, and apps serving it.

Two passes make every state the API must show: valid entities of our kinds and Backstage's, an entity
whose descriptor broke after it was synced (kept, with the error in ``status``), a descriptor that
never validated, a deleted descriptor (an orphan), a second repository claiming an entity (a
conflict), a warning (no owner) and a repository without descriptors. The catalog is built once per
test process; tests that write get their own copy of the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from catalog_sync.cli import build_app
from catalog_sync.config import Settings, parse_settings
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.sync import SyncEngine
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.syncstore import sync_store

TOKEN = "s3cret-token-for-the-api-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

PAYMENTS = """\
apiVersion: catalog/v1
kind: Product
metadata:
  name: payments-api
  title: Payments API
  description: Takes card payments for the web shop.
  tags: [payments, pci]
spec:
  type: service
  lifecycle: production
  owner: payments
  tier: 1
  capabilities: [payment-processing]
---
apiVersion: catalog/v1
kind: Team
metadata:
  name: payments
  title: Payments team
spec:
  displayName: Payments
  members:
    - {name: ada, role: product-owner}
    - {name: grace, role: developer}
---
apiVersion: catalog/v1
kind: Capability
metadata:
  name: payment-processing
spec:
  owner: payments
"""

SHOP = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: web-shop
  description: The shop front end, where payments start.
  tags: [frontend]
spec:
  type: website
  lifecycle: production
  owner: group:web
  system: shop
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: shop}
spec: {owner: web}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: web}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: shop-api}
spec: {type: openapi, lifecycle: production, owner: web, definition: "openapi: 3.0.0"}
"""

LEGACY = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: legacy-batch}
spec: {type: service, lifecycle: deprecated}
"""

OLD_THING = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: old-thing}
spec: {type: service, lifecycle: retired, owner: group:web}
"""

BROKEN = """\
apiVersion: catalog/v1
kind: Product
metadata: {name: broken}
spec: {type: service, lifecycle: someday, owner: payments}
---
apiVersion: catalog/v1
kind: Product
metadata: {name: fine-product}
spec: {type: library, lifecycle: %s, owner: payments, capabilities: [payment-processing]}
"""

COPYCAT = """\
apiVersion: catalog/v1
kind: Product
metadata: {name: payments-api}
spec: {type: service, lifecycle: experimental, owner: payments}
"""

ALL_REFS = sorted(
    [
        "api:default/shop-api",
        "capability:default/payment-processing",
        "component:default/legacy-batch",
        "component:default/old-thing",
        "component:default/web-shop",
        "group:default/web",
        "product:default/fine-product",
        "product:default/payments-api",
        "system:default/shop",
        "team:default/payments",
    ]
)


@dataclass(frozen=True)
class BuiltCatalog:
    """Where the synced catalog lives and the settings that built it."""

    settings: Settings
    database: Path
    repos: Path


def make_settings(database: Path, repos: Path, cache: Path, **api: Any) -> Settings:
    """Settings for a local source over ``repos`` and an API with one token."""
    return parse_settings(
        {
            "database": f"sqlite:///{database}",
            "sources": [{"name": "local", "type": "local", "path": str(repos)}],
            "sync": {"cache_dir": str(cache), "concurrency": 2, "allowed_protocols": ["https", "ssh"]},
            "api": {"tokens": [TOKEN], **api},
        }
    )


@pytest.fixture(scope="session")
def built_catalog(tmp_path_factory: pytest.TempPathFactory) -> BuiltCatalog:
    """Two real sync passes over five real repositories (see the module docstring)."""
    root = tmp_path_factory.mktemp("api-catalog")
    repos = root / "repos"
    payments = GitRepo(repos / "payments")
    payments.commit("add descriptors", files={"catalog-info.yaml": PAYMENTS}, when="2024-03-01T12:00:00Z")
    shop = GitRepo(repos / "shop")
    shop.commit(
        "add descriptors",
        files={
            "catalog-info.yaml": SHOP,
            ".catalog/legacy.yaml": LEGACY,
            "services/old/catalog-info.yaml": OLD_THING,
        },
        when="2024-03-01T12:00:00Z",
    )
    broken = GitRepo(repos / "broken")
    broken.commit(
        "add descriptors", files={"catalog-info.yaml": BROKEN % "production"}, when="2024-03-01T12:00:00Z"
    )
    copycat = GitRepo(repos / "copycat")
    copycat.commit("start", files={"README.md": "# copycat\n"}, when="2024-03-01T12:00:00Z")
    empty = GitRepo(repos / "empty")
    empty.commit("start", files={"README.md": "# nothing to see\n"}, when="2024-03-01T12:00:00Z")

    database = root / "catalog.db"
    settings = make_settings(database, repos, root / "cache")
    engine = open_engine(settings.database)
    upgrade(engine)
    SyncEngine(settings, sync_store(engine)).run_pass()

    shop.delete("services/old/catalog-info.yaml")
    shop.commit("retire old-thing", when="2024-03-02T12:00:00Z")
    broken.commit(
        "break fine-product", files={"catalog-info.yaml": BROKEN % "someday"}, when="2024-03-02T12:00:00Z"
    )
    copycat.commit("claim payments-api", files={"catalog-info.yaml": COPYCAT}, when="2024-03-02T12:00:00Z")
    SyncEngine(settings, sync_store(engine)).run_pass()
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return BuiltCatalog(settings, database, repos)


@pytest.fixture(scope="session")
def app(built_catalog: BuiltCatalog) -> Iterator[Flask]:
    """The API over the shared catalog; tests using it must not write."""
    engine = open_engine(built_catalog.settings.database)
    yield build_app(built_catalog.settings, engine)
    engine.dispose()


@pytest.fixture
def make_app(built_catalog: BuiltCatalog, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Apps over a private copy of the catalog, for tests that write; ``api`` keys (and the ``sync``
    mapping's) override settings."""
    engines: list[Any] = []

    def make(
        *, sync_trigger: Callable[[], None] | None = None, sync: dict[str, Any] | None = None, **api: Any
    ) -> Flask:
        copy = tmp_path / f"catalog-{len(engines)}.db"
        with sqlite3.connect(built_catalog.database) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        settings = replace(built_catalog.settings, database=f"sqlite:///{copy}")
        if api:
            settings = replace(settings, api=replace(settings.api, **api))
        if sync:
            settings = replace(settings, sync=replace(settings.sync, **sync))
        engine = open_engine(settings.database)
        engines.append(engine)
        return build_app(settings, engine, sync_trigger=sync_trigger)

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def writable(make_app: Callable[..., Flask]) -> FlaskClient:
    """A test client of an app over a private copy of the catalog."""
    return make_app().test_client()
