"""The catalog's actions and locations: deleting orphans, refresh, validate-entity, locations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask.testing import FlaskClient

from tests.integration.api.conftest import AUTH
from tests.integration.api.test_catalog_query import assert_backstage_error

BASE = "/api/catalog"


def uid_of(client: FlaskClient, kind: str, name: str) -> str:
    entity = client.get(f"{BASE}/entities/by-name/{kind}/default/{name}").get_json()
    return str(entity["metadata"]["uid"])


def repository_named(client: FlaskClient, name: str) -> dict[str, Any]:
    items = client.get("/api/repositories").get_json()["items"]
    return next(item for item in items if item["name"] == name)


def test_deleting_an_orphan_removes_it_and_its_relations(writable: FlaskClient) -> None:
    uid = uid_of(writable, "component", "old-thing")
    response = writable.delete(f"{BASE}/entities/by-uid/{uid}", headers=AUTH)
    assert response.status_code == 204
    assert writable.get(f"{BASE}/entities/by-uid/{uid}").status_code == 404
    owned = writable.get(f"{BASE}/entities/by-query?filter=relations.ownedBy=group:default/web").get_json()
    assert "old-thing" not in [item["metadata"]["name"] for item in owned["items"]]
    facets = writable.get(f"{BASE}/entity-facets?facet=kind").get_json()["facets"]["kind"]
    assert {"value": "Component", "count": 2} in facets


def test_deleting_an_entity_that_is_not_an_orphan_is_a_conflict(writable: FlaskClient) -> None:
    uid = uid_of(writable, "product", "payments-api")
    response = writable.delete(f"{BASE}/entities/by-uid/{uid}", headers=AUTH)
    assert_backstage_error(response, 409, "ConflictError", mentions="not an orphan")
    assert writable.get(f"{BASE}/entities/by-uid/{uid}").status_code == 200
    assert_backstage_error(
        writable.delete(f"{BASE}/entities/by-uid/unknown", headers=AUTH), 404, "NotFoundError"
    )


def test_deleting_without_or_with_a_wrong_token_changes_nothing(writable: FlaskClient) -> None:
    uid = uid_of(writable, "component", "old-thing")
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": "Basic abc"}):
        response = writable.delete(f"{BASE}/entities/by-uid/{uid}", headers=headers)
        assert_backstage_error(response, 401, "AuthenticationError")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert writable.get(f"{BASE}/entities/by-uid/{uid}").status_code == 200


def test_refresh_makes_the_entitys_repository_due_now(writable: FlaskClient) -> None:
    before = repository_named(writable, "payments")
    response = writable.post(
        f"{BASE}/refresh", json={"entityRef": "product:default/payments-api"}, headers=AUTH
    )
    assert response.status_code == 200
    after = repository_named(writable, "payments")
    assert datetime.fromisoformat(after["nextSyncAt"]) < datetime.fromisoformat(before["nextSyncAt"])
    assert (
        repository_named(writable, "shop")["nextSyncAt"] == repository_named(writable, "shop")["nextSyncAt"]
    )


def test_refresh_refusals(writable: FlaskClient) -> None:
    missing = writable.post(f"{BASE}/refresh", json={"entityRef": "product:default/nope"}, headers=AUTH)
    assert_backstage_error(missing, 404, "NotFoundError")
    assert_backstage_error(
        writable.post(f"{BASE}/refresh", json={"entityRef": "payments-api"}, headers=AUTH),
        400,
        "InputError",
        mentions="entityRef",
    )
    assert_backstage_error(
        writable.post(f"{BASE}/refresh", json={}, headers=AUTH), 400, "InputError", mentions="entityRef"
    )
    before = repository_named(writable, "payments")["nextSyncAt"]
    unauthorised = writable.post(f"{BASE}/refresh", json={"entityRef": "product:default/payments-api"})
    assert_backstage_error(unauthorised, 401, "AuthenticationError")
    assert repository_named(writable, "payments")["nextSyncAt"] == before


def test_validate_entity_accepts_a_valid_entity_with_its_warnings(client: FlaskClient) -> None:
    entity = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "x"},
        "spec": {"type": "service", "lifecycle": "production"},
    }
    response = client.post(
        f"{BASE}/validate-entity", json={"entity": entity, "location": "url:https://h/x.yaml"}
    )
    assert response.status_code == 200
    assert any("owner" in warning["message"] for warning in response.get_json()["warnings"])


def test_validate_entity_answers_400_with_errors_as_backstage_does(client: FlaskClient) -> None:
    def errors(body: Any, **kwargs: Any) -> list[str]:
        response = (
            client.post(f"{BASE}/validate-entity", json=body, **kwargs)
            if body is not None
            else client.post(f"{BASE}/validate-entity", **kwargs)
        )
        assert response.status_code == 400, response.get_data(as_text=True)
        return [error["message"] for error in response.get_json()["errors"]]

    bad = {
        "apiVersion": "catalog/v1",
        "kind": "Product",
        "metadata": {"name": "p"},
        "spec": {"type": "service", "lifecycle": "someday"},
    }
    assert any("spec.lifecycle" in text for text in errors({"entity": bad, "location": "url:https://h/x"}))
    assert any("location" in text.lower() for text in errors({"entity": bad, "location": "file:/x"}))
    assert any("entity" in text for text in errors({"location": "url:https://h/x"}))
    assert any(
        "kind" in text.lower() for text in errors({"entity": {"kind": "Nope"}, "location": "url:https://h/x"})
    )
    assert any("JSON" in text for text in errors(None, data="{nope", content_type="application/json"))
    assert any("object" in text for text in errors([1, 2]))


def test_locations_list_one_url_location_per_descriptor_file(client: FlaskClient) -> None:
    locations = client.get(f"{BASE}/locations").get_json()
    targets = sorted(item["data"]["target"].split("/repos/")[1] for item in locations)
    assert targets == [
        "broken/blob/main/catalog-info.yaml",
        "copycat/blob/main/catalog-info.yaml",
        "payments/blob/main/catalog-info.yaml",
        "shop/blob/main/.catalog/legacy.yaml",
        "shop/blob/main/catalog-info.yaml",
    ]
    assert {item["data"]["type"] for item in locations} == {"url"}
    first = locations[0]["data"]
    assert client.get(f"{BASE}/locations/{first['id']}").get_json() == first
    assert_backstage_error(client.get(f"{BASE}/locations/bm9wZQ"), 404, "NotFoundError")
    assert_backstage_error(client.get(f"{BASE}/locations/%25%25"), 404, "NotFoundError")


def test_location_by_entity_matches_its_managed_by_location(client: FlaskClient) -> None:
    entity = client.get(f"{BASE}/entities/by-name/component/default/legacy-batch").get_json()
    location = client.get(f"{BASE}/locations/by-entity/component/default/legacy-batch").get_json()
    assert (
        "url:" + location["target"] == entity["metadata"]["annotations"]["backstage.io/managed-by-location"]
    )
    assert_backstage_error(
        client.get(f"{BASE}/locations/by-entity/component/default/nope"), 404, "NotFoundError"
    )
