"""Backstage's own ``@backstage/catalog-client``, unchanged, against the API over real HTTP.

The pinned client and model are installed with npm into ``.tools/node-backstage`` (reused when already
there; the export's test uses the same install), the app serves a catalog built by real syncs on a free
loopback port, and ``backstage/client.mjs`` calls the client's methods and prints what it got as JSON.
Without node or npm the test is skipped with the reason, except under ``CI=true``, where it fails: CI
must never pass by silently not testing compatibility.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from catalog_sync.cli import build_app
from catalog_sync.store.engine import open_engine
from tests.fixtures.http import serving
from tests.fixtures.required import node_packages
from tests.integration.api.conftest import ALL_REFS, TOKEN, BuiltCatalog
from tests.integration.api.conftest import built_catalog as built_catalog

HERE = Path(__file__).resolve().parent
CHECKER = HERE / "backstage"
REPO_ROOT = HERE.parents[1]


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """``.tools/node-backstage/node_modules`` with the pinned client and model, installed unless present."""
    return node_packages(CHECKER / "package.json", "node-backstage") / "node_modules"


@pytest.fixture(scope="module")
def base_url(built_catalog: BuiltCatalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API over a private copy of the synced catalog, served over HTTP on a free loopback port."""
    copy = tmp_path_factory.mktemp("backstage-client") / "catalog.db"
    shutil.copyfile(built_catalog.database, copy)
    settings = built_catalog.settings
    engine = open_engine(f"sqlite:///{copy}")
    app = build_app(replace(settings, database=f"sqlite:///{copy}"), engine)
    try:
        with serving(app) as url:
            yield url
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def seen(node_modules: Path, base_url: str) -> dict[str, Any]:
    """What Backstage's client saw, as printed by ``client.mjs``: one run of the whole script, which
    each test below reads a part of (running it again for each would print the same document)."""
    done = subprocess.run(
        ["node", str(CHECKER / "client.mjs"), base_url, str(node_modules), TOKEN],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_backstage_client_reads_the_catalog(seen: dict[str, Any]) -> None:
    assert seen["allRefs"] == ALL_REFS
    assert seen["schemaInvalid"] == [], "every entity passes Backstage's entity schema"
    validity = {item["ref"]: item for item in seen["componentsValid"]}
    assert validity["component:default/web-shop"]["valid"] is True
    assert validity["component:default/old-thing"]["valid"] is True
    # A Component without an owner is an ownership gap here; Backstage's own rules refuse it.
    assert validity["component:default/legacy-batch"]["valid"] is False
    assert "owner" in validity["component:default/legacy-batch"]["message"]
    assert {"type": "ownedBy", "targetRef": "team:default/payments"} in seen["relationsOfProduct"]


def test_backstage_client_filters_projects_and_orders(seen: dict[str, Any]) -> None:
    assert seen["components"] == ["legacy-batch", "old-thing", "web-shop"]
    assert seen["productsOrTeams"] == [
        "product:default/fine-product",
        "product:default/payments-api",
        "team:default/payments",
    ]
    assert seen["anyOfKinds"] == ["api:default/shop-api", "system:default/shop"]
    assert seen["tagged"] == ["product:default/payments-api"]
    assert seen["hasOwner"] == ["product:default/fine-product", "product:default/payments-api"]
    assert sorted(seen["projected"], key=lambda e: e["metadata"]["name"]) == [
        {"kind": "Product", "metadata": {"name": "fine-product"}},
        {"kind": "Product", "metadata": {"name": "payments-api"}},
    ]
    assert seen["ordered"] == ["web-shop", "old-thing", "legacy-batch"]


def test_backstage_client_pages_with_cursors_and_searches(seen: dict[str, Any]) -> None:
    names = [name for page in seen["queryPages"] for name in page]
    assert names == sorted(ref.split("/")[1] for ref in ALL_REFS)
    assert seen["queryTotal"] == len(ALL_REFS)
    assert all(len(page) <= 2 for page in seen["queryPages"])
    assert seen["lastPageHasPrev"] is True
    assert seen["previousPage"] == seen["queryPages"][-2]
    assert seen["queryFiltered"]["total"] == 2
    assert sorted(i["metadata"]["name"] for i in seen["queryFiltered"]["items"]) == [
        "fine-product",
        "payments-api",
    ]
    assert seen["fullText"] == [
        "component:default/web-shop",
        "product:default/payments-api",
        "team:default/payments",
    ]
    assert seen["fullTextByName"] == ["product:default/payments-api", "team:default/payments"]
    assert sum(seen["streamed"]) == len(ALL_REFS)
    assert max(seen["streamed"]) <= 3


def test_backstage_client_gets_by_ref_refs_and_facets(seen: dict[str, Any]) -> None:
    assert seen["byRef"]["ref"] == "product:default/payments-api"
    assert seen["byRef"]["uid"]
    assert seen["byRefUpperCase"] is True
    assert seen["byRefMissing"] == "undefined"
    assert seen["byRefs"] == [
        {"kind": "Team", "metadata": {"name": "payments"}},
        None,
        {"kind": "Product", "metadata": {"name": "payments-api"}},
    ]
    assert seen["byRefsFiltered"] == ["team:default/payments", None]
    kinds = {item["value"]: item["count"] for item in seen["facets"]["kind"]}
    assert kinds["Component"] == 3
    assert kinds["Product"] == 2
    assert seen["facetsFiltered"] == {"spec.lifecycle": [{"value": "production", "count": 2}]}


def test_backstage_client_validates_and_lists_locations(seen: dict[str, Any]) -> None:
    assert seen["validateGood"] == {"valid": True}
    assert seen["validateBad"]["valid"] is False
    assert any("spec.lifecycle" in error["message"] for error in seen["validateBad"]["errors"])
    assert len(seen["locations"]) == 5
    assert {loc["type"] for loc in seen["locations"]} == {"url"}
    assert seen["locationById"] == seen["locations"][0]
    assert seen["locationMissing"] == "undefined"
    assert seen["locationByEntity"]["target"].endswith("/payments/blob/main/catalog-info.yaml")


def test_backstage_client_reads_our_errors(seen: dict[str, Any]) -> None:
    assert seen["refreshWithToken"] is None
    assert seen["refreshWithoutToken"]["statusCode"] == 401
    assert seen["refreshWithoutToken"]["name"] == "AuthenticationError"
    assert (seen["badCursor"]["statusCode"], seen["badCursor"]["name"]) == (400, "InputError")
    assert "cursor" in seen["badCursor"]["message"]
    assert (seen["badFilterKey"]["statusCode"], seen["badFilterKey"]["name"]) == (400, "InputError")
    assert (seen["deleteNotOrphan"]["statusCode"], seen["deleteNotOrphan"]["name"]) == (409, "ConflictError")
