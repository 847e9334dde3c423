"""Deleting an orphan through the API re-points what named it, as a sync pass does, on both databases.

The world is built for real: git repositories of a local source, real sync passes, then the HTTP API.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from catalog_sync.cli import build_app
from tests.integration.api.conftest import AUTH, TOKEN
from tests.integration.conftest import Catalog, product_yaml

BASE = "/api/catalog"
GROUP = (
    "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: payments}\n"
    "spec: {type: team, children: []}\n"
)
TEAM = "apiVersion: catalog/v1\nkind: Team\nmetadata: {name: payments}\n"


def _client(catalog: Catalog) -> FlaskClient:
    catalog.config = {**catalog.config, "api": {"tokens": [TOKEN]}}
    return build_app(catalog.settings, catalog.engine).test_client()


def _entity(client: FlaskClient, kind: str, name: str) -> dict[str, Any]:
    response = client.get(f"{BASE}/entities/by-name/{kind}/default/{name}")
    assert response.status_code == 200, response.get_data(as_text=True)
    found: dict[str, Any] = response.get_json()
    return found


def _owners(client: FlaskClient, name: str) -> set[str]:
    relations = _entity(client, "product", name)["relations"]
    return {relation["targetRef"] for relation in relations if relation["type"] == "ownedBy"}


def test_deleting_an_orphaned_group_hands_its_products_to_the_team_of_that_name(catalog: Catalog) -> None:
    catalog.repo("pay", {"catalog-info.yaml": product_yaml("pay")})
    catalog.repo("platform", {"catalog-info.yaml": GROUP})
    catalog.sync()
    client = _client(catalog)
    assert _owners(client, "pay") == {"group:default/payments"}

    catalog.repo("platform", {"catalog-info.yaml": TEAM})  # the Team arrives, the Group is orphaned
    catalog.sync()
    group = _entity(client, "group", "payments")
    assert group["metadata"]["annotations"]["backstage.io/orphan"] == "true"
    assert _owners(client, "pay") == {"group:default/payments"}

    response = client.delete(f"{BASE}/entities/by-uid/{group['metadata']['uid']}", headers=AUTH)

    assert response.status_code == 204
    assert client.get(f"{BASE}/entities/by-name/group/default/payments").status_code == 404
    assert _owners(client, "pay") == {"team:default/payments"}
    team_relations = _entity(client, "team", "payments")["relations"]
    assert {"type": "ownerOf", "targetRef": "product:default/pay"} in [
        {"type": r["type"], "targetRef": r["targetRef"]} for r in team_relations
    ]


def test_an_entity_whose_descriptor_exists_is_not_deleted(catalog: Catalog) -> None:
    catalog.repo("platform", {"catalog-info.yaml": GROUP})
    catalog.sync()
    client = _client(catalog)
    uid = _entity(client, "group", "payments")["metadata"]["uid"]

    response = client.delete(f"{BASE}/entities/by-uid/{uid}", headers=AUTH)

    assert response.status_code == 409
    assert "is not an orphan" in response.get_json()["error"]["message"]
    assert _entity(client, "group", "payments")["metadata"]["uid"] == uid
