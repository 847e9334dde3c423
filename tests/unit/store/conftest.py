"""A small catalog, written into both databases, that the read-side tests query.

Tests that only read share one database per module and backend (``module_engine``), which keeps the
PostgreSQL side of the suite fast; tests that write use the per-test ``store_engine``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from catalog_sync.store.engine import open_engine
from catalog_sync.store.queries import CatalogReader
from tests.fixtures.postgres import PostgresCluster, create_database, drop_database
from tests.unit.store.helpers import entity_body, insert_entity


@dataclass
class Catalog:
    """The reader over the sample catalog, and the ids of its entities by ref."""

    reader: CatalogReader
    engine: Engine
    ids: dict[str, int]


SAMPLE = [
    (
        entity_body(
            "Component",
            "payments-api",
            title="Payments API",
            description="Takes card payments for the web shop.",
            tags=["java", "pci"],
            spec={"type": "service", "lifecycle": "production", "owner": "team-a"},
        ),
        [("ownedBy", "group:default/team-a"), ("dependsOn", "component:default/ledger")],
        ["spec.tier: must be between 1 and 4"],
    ),
    (
        entity_body(
            "Component",
            "ledger",
            title="Ledger",
            tags=["java"],
            spec={"type": "service", "lifecycle": "experimental", "owner": "team-b"},
        ),
        [("ownedBy", "group:default/team-b"), ("dependencyOf", "component:default/payments-api")],
        [],
    ),
    (
        entity_body(
            "Component",
            "web-shop",
            title="Web shop",
            tags=["Frontend"],
            spec={"type": "website", "lifecycle": "production", "owner": "team-a"},
        ),
        [("ownedBy", "group:default/team-a")],
        [],
    ),
    (
        entity_body(
            "API", "payments", spec={"type": "openapi", "lifecycle": "production", "owner": "team-a"}
        ),
        [("ownedBy", "group:default/team-a")],
        [],
    ),
    (
        entity_body(
            "Product",
            "checkout",
            title="Checkout 100% fast",
            description="keeps under_score names",
            tags=["frontend"],
            spec={"type": "service", "lifecycle": "production", "owner": "Team-B"},
        ),
        [("ownedBy", "group:default/team-b")],
        [],
    ),
    (
        entity_body("Group", "team-a", spec={"type": "team"}),
        [("ownerOf", "component:default/payments-api"), ("ownerOf", "component:default/web-shop")],
        [],
    ),
    (entity_body("Group", "team-b", spec={"type": "team"}), [("ownerOf", "component:default/ledger")], []),
    (
        entity_body(
            "Component",
            "payments-api",
            namespace="other",
            spec={"type": "library", "lifecycle": "deprecated"},
        ),
        [],
        [],
    ),
]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def module_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database shared by the read-only tests of one module, on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path_factory.mktemp("module-db") / "catalog.db"
        shutil.copyfile(template, path)
        engine = open_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    url = create_database(cluster)
    engine = open_engine(url)
    yield engine
    engine.dispose()
    drop_database(cluster, url)


def fill_sample(engine: Engine) -> Catalog:
    """Write the sample catalog in one transaction."""
    ids: dict[str, int] = {}
    with engine.begin() as connection:
        for body, edges, problem_messages in SAMPLE:
            entity_id = insert_entity(
                connection, body, relations_out=edges, problem_messages=problem_messages
            )
            namespace = body["metadata"].get("namespace", "default")
            ids[f"{body['kind'].lower()}:{namespace}/{body['metadata']['name']}"] = entity_id
    return Catalog(CatalogReader(engine), engine, ids)


@pytest.fixture(scope="module")
def catalog(module_engine: Engine) -> Catalog:
    """The sample catalog on SQLite and on PostgreSQL, shared by a module's read-only tests."""
    return fill_sample(module_engine)


@pytest.fixture
def fresh_catalog(store_engine: Engine) -> Catalog:
    """The sample catalog in a database of its own, for tests that change it."""
    return fill_sample(store_engine)
