"""The same API calls on SQLite and on a real PostgreSQL, over a catalog built by a real sync.

Dialects differ where the API is most exposed (ordering with missing values, keyset paging, grouping
for facets, what a string may contain), so the calls a portal makes most run on both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, event

from catalog_sync.cli import build_app
from catalog_sync.sync import SyncEngine
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.syncstore import sync_store
from tests.integration.api.conftest import AUTH, LEGACY, OLD_THING, PAYMENTS, SHOP, make_settings
from tests.integration.api.test_catalog_query import assert_backstage_error
from tests.integration.portal.html import parse

BASE = "/api/catalog"


@pytest.fixture
def client(store_engine: Engine, tmp_path: Path) -> FlaskClient:
    """An app over ``store_engine`` after one real sync of two repositories (and one orphaning)."""
    repos = tmp_path / "repos"
    GitRepo(repos / "payments").commit("init", files={"catalog-info.yaml": PAYMENTS})
    shop = GitRepo(repos / "shop")
    shop.commit(
        "init",
        files={"catalog-info.yaml": SHOP, ".catalog/legacy.yaml": LEGACY, "old/catalog-info.yaml": OLD_THING},
    )
    settings = make_settings(tmp_path / "unused.db", repos, tmp_path / "cache")
    SyncEngine(settings, sync_store(store_engine)).run_pass()
    shop.delete("old/catalog-info.yaml")
    shop.commit("retire old-thing")
    SyncEngine(settings, sync_store(store_engine)).run_pass()
    return build_app(settings, store_engine).test_client()


def test_query_paging_ordering_and_full_text(client: FlaskClient) -> None:
    names: list[str] = []
    url = f"{BASE}/entities/by-query?limit=3&orderField=spec.lifecycle,desc&orderField=metadata.name,asc"
    pages = 0
    while url:
        body = client.get(url).get_json()
        assert body["totalItems"] == 9
        names += [item["metadata"]["name"] for item in body["items"]]
        cursor = body["pageInfo"].get("nextCursor")
        url = f"{BASE}/entities/by-query?limit=3&cursor={cursor}" if cursor else ""
        pages += 1
    assert pages == 3
    # retired > production > deprecated, then entities without a lifecycle, each group by name
    assert names == [
        "old-thing",
        "payments-api",
        "shop-api",
        "web-shop",
        "legacy-batch",
        "payment-processing",
        "payments",
        "shop",
        "web",
    ]
    found = client.get(f"{BASE}/entities/by-query?fullTextFilterTerm=Payments%25").get_json()
    assert found["totalItems"] == 0, "% is matched literally"
    tagged = client.get(f"{BASE}/entities/by-query?filter=metadata.tags=PCI&fields=metadata.name").get_json()
    assert tagged["items"] == [{"metadata": {"name": "payments-api"}}]


def test_facets_refs_legacy_list_and_locations(client: FlaskClient) -> None:
    facets = client.get(f"{BASE}/entity-facets?facet=kind&filter=spec.owner").get_json()["facets"]["kind"]
    assert {f["value"]: f["count"] for f in facets} == {
        "Component": 2,
        "API": 1,
        "Capability": 1,
        "Product": 1,
        "System": 1,
    }
    refs = client.post(
        f"{BASE}/entities/by-refs", json={"entityRefs": ["system:shop", "system:nope"]}
    ).get_json()
    assert refs["items"][0]["metadata"]["name"] == "shop"
    assert refs["items"][1] is None
    page = client.get(f"{BASE}/entities?offset=7&limit=5&fields=metadata.name").get_json()
    assert len(page) == 2
    assert len(client.get(f"{BASE}/locations").get_json()) == 3


def test_repositories_writes_and_refusals(client: FlaskClient) -> None:
    body = client.get("/api/repositories?limit=1").get_json()
    assert body["totalItems"] == 2
    assert [i["name"] for i in body["items"]] == ["payments"]
    rest = client.get(f"/api/repositories?cursor={body['pageInfo']['nextCursor']}").get_json()
    assert [i["name"] for i in rest["items"]] == ["shop"]
    assert rest["items"][0]["entities"] == 6
    created = client.post("/api/repositories", json={"url": "https://git.example.com/a/b.git"}, headers=AUTH)
    assert created.status_code == 201
    again = client.post("/api/repositories", json={"url": "https://git.example.com/a/b.git"}, headers=AUTH)
    assert again.status_code == 409
    orphan = client.get(f"{BASE}/entities/by-name/component/default/old-thing").get_json()
    owned = client.get(f"{BASE}/entities/by-name/component/default/web-shop").get_json()
    assert (
        client.delete(f"{BASE}/entities/by-uid/{owned['metadata']['uid']}", headers=AUTH).status_code == 409
    )
    assert (
        client.delete(f"{BASE}/entities/by-uid/{orphan['metadata']['uid']}", headers=AUTH).status_code == 204
    )
    assert client.post("/api/sync", headers=AUTH).get_json() == {"scheduled": 3}
    assert client.get("/api/sync/runs").get_json()["totalItems"] == 2


def test_nul_characters_are_bad_input_not_database_failures(client: FlaskClient) -> None:
    assert_backstage_error(client.get(f"{BASE}/entities/by-uid/a%00b"), 400, "InputError", mentions="NUL")
    assert_backstage_error(client.get(f"{BASE}/entities/by-query?filter=kind=a%00"), 400, "InputError")
    by_refs = client.post(f"{BASE}/entities/by-refs", json={"entityRefs": ["component:default/a\u0000"]})
    assert_backstage_error(by_refs, 400, "InputError", mentions="NUL")
    refresh = client.post(f"{BASE}/refresh", json={"entityRef": "component:x\u0000"}, headers=AUTH)
    assert_backstage_error(refresh, 400, "InputError", mentions="NUL")


def test_the_portals_most_frequent_requests_cost_one_statement_each(
    client: FlaskClient, store_engine: Engine
) -> None:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    def statements_for(url: str) -> tuple[dict[str, Any], int]:
        statements.clear()
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json(), len(statements)

    event.listen(store_engine, "before_cursor_execute", record)
    try:
        first, cost = statements_for(f"{BASE}/entities/by-query?filter=spec.owner=payments&limit=1")
        assert (cost, first["totalItems"]) == (1, 2)
        assert first["items"][0]["relations"], "relations come with the page"
        second, cost = statements_for(f"{BASE}/entities/by-query?cursor={first['pageInfo']['nextCursor']}")
        assert (cost, second["totalItems"], len(second["items"])) == (1, 2, 1)
        assert first["items"][0]["metadata"]["name"] != second["items"][0]["metadata"]["name"]
        entity, cost = statements_for(f"{BASE}/entities/by-name/product/default/payments-api")
        assert cost == 1
        assert {"type": "ownedBy", "targetRef": "team:default/payments"} in entity["relations"]
        facets, cost = statements_for(f"{BASE}/entity-facets?facet=kind")
        assert cost == 1
        again, cost = statements_for(f"{BASE}/entity-facets?facet=kind")
        assert (cost, again) == (0, facets), "a repeated facet request is answered from the cache"
    finally:
        event.remove(store_engine, "before_cursor_execute", record)


GHOST_OWNED = """\
apiVersion: catalog/v1
kind: Product
metadata: {name: haunted, title: Haunted product}
spec: {type: service, lifecycle: production, owner: ghosts}
"""


def test_the_portal_marks_only_the_owners_missing_from_the_catalog(
    store_engine: Engine, tmp_path: Path
) -> None:
    repos = tmp_path / "repos"
    GitRepo(repos / "payments").commit("init", files={"catalog-info.yaml": PAYMENTS})
    GitRepo(repos / "haunted").commit("init", files={"catalog-info.yaml": GHOST_OWNED})
    settings = make_settings(tmp_path / "unused.db", repos, tmp_path / "cache")
    SyncEngine(settings, sync_store(store_engine)).run_pass()
    client = build_app(settings, store_engine).test_client()

    listed = parse(client.get("/catalog?kind=product").get_data(as_text=True))
    haunted = parse(client.get("/catalog/product/default/haunted").get_data(as_text=True))
    payments = parse(client.get("/catalog/product/default/payments-api").get_data(as_text=True))

    assert "not in the catalog" in listed.row("Haunted product")[2]
    assert "not in the catalog" not in listed.row("payments-api")[2]
    assert "not in the catalog" in haunted.text
    assert "not in the catalog" not in payments.text
