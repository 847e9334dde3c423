"""Property-based checks of the whole API against its own OpenAPI description, with schemathesis.

Every operation of ``/api/openapi.json`` is called with generated valid and invalid input, with a
bearer token so write endpoints run too; every answer must be documented (status, content type,
schema) and nothing may be a server error. The catalog behind it is built by a real sync.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import yaml
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.core.media_types import YAML_MEDIA_TYPES
from schemathesis.specs.openapi.checks import positive_data_acceptance

from catalog_sync.cli import build_app
from catalog_sync.config import parse_settings
from catalog_sync.store.engine import open_engine
from catalog_sync.store.migrate import upgrade
from catalog_sync.sync import SyncEngine
from tests.fixtures.gitrepos import GitRepo
from tests.integration.api.conftest import AUTH, PAYMENTS, SHOP, make_settings


def _schema_app() -> Flask:
    """An app over an empty in-memory database: enough to serve the description at collection time."""
    return build_app(parse_settings({}), open_engine("sqlite://"))


SEMANTIC_CHECKS = [positive_data_acceptance]
"""Left out: a filter, order field or cursor that JSON Schema calls a string can still be malformed
(Backstage's grammar, a cursor's integrity), and refusing it with 400 is right."""


@schemathesis.deserializer(*YAML_MEDIA_TYPES)
def _yaml_stream(_context: Any, response: Any) -> list[Any]:
    """The export is a stream of YAML documents, documented as an array of them."""
    return list(yaml.safe_load_all(response.content.decode("utf-8")))


schema = schemathesis.openapi.from_wsgi("/api/openapi.json", _schema_app())


@pytest.fixture(scope="module")
def synced_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app the generated requests go to: a real catalog built by a real sync, a token configured."""
    root = tmp_path_factory.mktemp("schemathesis")
    GitRepo(root / "repos" / "payments").commit("init", files={"catalog-info.yaml": PAYMENTS})
    GitRepo(root / "repos" / "shop").commit("init", files={"catalog-info.yaml": SHOP})
    app_settings = make_settings(root / "catalog.db", root / "repos", root / "cache")
    engine = open_engine(app_settings.database)
    upgrade(engine)
    SyncEngine(app_settings, engine).run_pass()
    yield build_app(app_settings, engine)
    engine.dispose()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_as_documented(case: Any, synced_app: Flask) -> None:
    case.call_and_validate(app=synced_app, headers=AUTH, excluded_checks=SEMANTIC_CHECKS)


def test_the_schema_covers_the_catalog_and_our_endpoints() -> None:
    operations = {f"{op.method.upper()} {op.path}" for op in (r.ok() for r in schema.get_all_operations())}
    assert "GET /api/catalog/entities/by-query" in operations
    assert "POST /api/repositories" in operations
    assert "DELETE /api/catalog/entities/by-uid/{uid}" in operations
    assert len(operations) >= 20
