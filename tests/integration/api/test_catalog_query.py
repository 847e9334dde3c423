"""Reading entities through the Backstage-compatible catalog: by-query, the legacy list, by name, uid
and refs, facets, and every way a query can be malformed."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.integration.api.conftest import ALL_REFS

BASE = "/api/catalog"


def refs_of(items: list[dict[str, Any]]) -> list[str]:
    return sorted(f"{e['kind'].lower()}:{e['metadata']['namespace']}/{e['metadata']['name']}" for e in items)


def assert_backstage_error(response: Any, status: int, name: str, *, mentions: str = "") -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]["name"] == name
    assert body["response"] == {"statusCode": status}
    assert body["request"]["method"] == response.request.method
    assert mentions.lower() in body["error"]["message"].lower()
    assert "Traceback" not in response.get_data(as_text=True)


def test_by_query_without_parameters_answers_every_entity_with_total(client: FlaskClient) -> None:
    body = client.get(f"{BASE}/entities/by-query").get_json()
    assert body["totalItems"] == len(ALL_REFS)
    assert refs_of(body["items"]) == ALL_REFS
    assert body["pageInfo"] == {}


def test_by_query_filters_and_or_and_existence(client: FlaskClient) -> None:
    def refs(query: str) -> list[str]:
        response = client.get(f"{BASE}/entities/by-query?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return refs_of(response.get_json()["items"])

    assert refs("filter=kind=product,spec.lifecycle=production") == [
        "product:default/fine-product",
        "product:default/payments-api",
    ]
    assert refs("filter=kind=team&filter=kind=group") == ["group:default/web", "team:default/payments"]
    assert refs("filter=KIND=Component,spec.lifecycle=DEPRECATED") == ["component:default/legacy-batch"]
    assert refs("filter=kind=component,kind=api") == [
        "api:default/shop-api",
        "component:default/legacy-batch",
        "component:default/old-thing",
        "component:default/web-shop",
    ]
    assert refs("filter=metadata.tags.pci") == ["product:default/payments-api"]
    assert refs("filter=kind=component,spec.owner") == [
        "component:default/old-thing",
        "component:default/web-shop",
    ]
    assert refs("filter=relations.ownedBy=team:default/payments,kind=capability") == [
        "capability:default/payment-processing"
    ]
    assert refs("filter=metadata.annotations.backstage.io/orphan=true") == ["component:default/old-thing"]


def test_by_query_pages_with_cursors_to_the_end_and_back(client: FlaskClient) -> None:
    first = client.get(f"{BASE}/entities/by-query?limit=4&orderField=metadata.name,asc").get_json()
    names = [item["metadata"]["name"] for item in first["items"]]
    assert first["totalItems"] == len(ALL_REFS)
    assert "prevCursor" not in first["pageInfo"]
    pages = [first]
    while "nextCursor" in pages[-1]["pageInfo"]:
        response = client.get(
            f"{BASE}/entities/by-query",
            query_string={"cursor": pages[-1]["pageInfo"]["nextCursor"], "limit": 4},
        )
        pages.append(response.get_json())
        names += [item["metadata"]["name"] for item in pages[-1]["items"]]
    assert len(pages) == 3
    assert names == sorted(ref.split("/")[1] for ref in ALL_REFS)
    assert all(page["totalItems"] == len(ALL_REFS) for page in pages)
    back = client.get(
        f"{BASE}/entities/by-query", query_string={"cursor": pages[-1]["pageInfo"]["prevCursor"], "limit": 4}
    ).get_json()
    assert back["items"] == pages[1]["items"]


def test_by_query_orders_descending_and_projects_fields(client: FlaskClient) -> None:
    body = client.get(
        f"{BASE}/entities/by-query?filter=kind=component&orderField=metadata.name,desc"
        "&fields=kind,metadata.name&fields=spec.lifecycle"
    ).get_json()
    assert body["items"] == [
        {"kind": "Component", "metadata": {"name": "web-shop"}, "spec": {"lifecycle": "production"}},
        {"kind": "Component", "metadata": {"name": "old-thing"}, "spec": {"lifecycle": "retired"}},
        {"kind": "Component", "metadata": {"name": "legacy-batch"}, "spec": {"lifecycle": "deprecated"}},
    ]


def test_by_query_full_text_matches_name_title_and_description(client: FlaskClient) -> None:
    body = client.get(f"{BASE}/entities/by-query?fullTextFilterTerm=PAYMENTS").get_json()
    assert refs_of(body["items"]) == [
        "component:default/web-shop",
        "product:default/payments-api",
        "team:default/payments",
    ]
    by_name = client.get(
        f"{BASE}/entities/by-query?fullTextFilterTerm=payments&fullTextFilterFields=metadata.name"
    ).get_json()
    assert refs_of(by_name["items"]) == ["product:default/payments-api", "team:default/payments"]


def test_limit_zero_counts_only_and_a_huge_limit_is_served_at_the_maximum(make_app: Any) -> None:
    client = make_app(max_page_size=3).test_client()
    counted = client.get(f"{BASE}/entities/by-query?limit=0").get_json()
    assert counted["items"] == []
    assert counted["totalItems"] == len(ALL_REFS)
    huge = client.get(f"{BASE}/entities/by-query?limit=1000000000").get_json()
    assert len(huge["items"]) == 3
    assert "nextCursor" in huge["pageInfo"]
    default = make_app(default_page_size=2).test_client().get(f"{BASE}/entities/by-query").get_json()
    assert len(default["items"]) == 2


def test_entities_carry_uid_etag_relations_and_processing_status(client: FlaskClient) -> None:
    product = client.get(f"{BASE}/entities/by-name/product/default/payments-api").get_json()
    assert product["metadata"]["uid"]
    assert product["metadata"]["etag"]
    assert {"type": "ownedBy", "targetRef": "team:default/payments"} in product["relations"]
    assert {"type": "partOf", "targetRef": "capability:default/payment-processing"} in product["relations"]
    assert "status" not in product
    location = product["metadata"]["annotations"]["backstage.io/managed-by-location"]
    assert location.startswith("url:file://")
    assert location.endswith("/payments/blob/main/catalog-info.yaml")

    broken = client.get(f"{BASE}/entities/by-name/product/default/fine-product").get_json()
    assert broken["spec"]["lifecycle"] == "production", "the last good version is kept"
    [item] = broken["status"]["items"]
    assert item["type"] == "backstage.io/catalog-processing"
    assert item["level"] == "error"
    assert "spec.lifecycle" in item["error"]["message"]

    warned = client.get(f"{BASE}/entities/by-name/component/default/legacy-batch").get_json()
    assert [i["level"] for i in warned["status"]["items"]] == ["warning"]

    orphan = client.get(f"{BASE}/entities/by-name/component/default/old-thing").get_json()
    assert orphan["metadata"]["annotations"]["backstage.io/orphan"] == "true"


def test_by_name_is_case_insensitive_and_404s_in_backstage_shape(client: FlaskClient) -> None:
    assert client.get(f"{BASE}/entities/by-name/Product/DEFAULT/Payments-API").status_code == 200
    missing = client.get(f"{BASE}/entities/by-name/product/default/nothing-here")
    assert_backstage_error(missing, 404, "NotFoundError", mentions="nothing-here")


def test_by_uid_finds_the_entity_by_name_found(client: FlaskClient) -> None:
    entity = client.get(f"{BASE}/entities/by-name/team/default/payments").get_json()
    again = client.get(f"{BASE}/entities/by-uid/{entity['metadata']['uid']}").get_json()
    assert again == entity
    assert_backstage_error(client.get(f"{BASE}/entities/by-uid/no-such-uid"), 404, "NotFoundError")


def test_by_refs_keeps_order_nulls_misses_and_applies_fields_and_filter(client: FlaskClient) -> None:
    body = {
        "entityRefs": ["team:default/payments", "product:default/missing", "api:shop-api", "not a ref"],
        "fields": ["kind", "metadata.name"],
    }
    response = client.post(f"{BASE}/entities/by-refs", json=body)
    assert response.status_code == 200
    assert response.get_json()["items"] == [
        {"kind": "Team", "metadata": {"name": "payments"}},
        None,
        {"kind": "API", "metadata": {"name": "shop-api"}},
        None,
    ]
    filtered = client.post(
        f"{BASE}/entities/by-refs?filter=kind=api",
        json={"entityRefs": ["team:default/payments", "api:default/shop-api"]},
    ).get_json()
    assert [item and item["metadata"]["name"] for item in filtered["items"]] == [None, "shop-api"]


def test_by_refs_refuses_malformed_bodies_and_predicate_queries(client: FlaskClient) -> None:
    predicate = {"entityRefs": ["team:default/payments"], "query": {"kind": "team"}}
    assert_backstage_error(
        client.post(f"{BASE}/entities/by-refs", json=predicate), 400, "InputError", mentions="predicate"
    )
    assert_backstage_error(
        client.post(f"{BASE}/entities/by-refs", json={}), 400, "InputError", mentions="entityRefs"
    )
    assert_backstage_error(
        client.post(f"{BASE}/entities/by-refs", json={"entityRefs": "team:payments"}),
        400,
        "InputError",
        mentions="entityRefs",
    )
    assert_backstage_error(
        client.post(f"{BASE}/entities/by-refs", json={"entityRefs": ["x"] * 1001}),
        400,
        "InputError",
        mentions="entityRefs",
    )


def test_facets_count_values_with_original_spelling_and_filters(client: FlaskClient) -> None:
    body = client.get(f"{BASE}/entity-facets?facet=kind&facet=relations.ownedBy").get_json()
    kinds = {item["value"]: item["count"] for item in body["facets"]["kind"]}
    assert kinds == {
        "Component": 3,
        "Product": 2,
        "API": 1,
        "Capability": 1,
        "Group": 1,
        "System": 1,
        "Team": 1,
    }
    assert body["facets"]["relations.ownedBy"][0] == {"value": "group:default/web", "count": 4}
    filtered = client.get(f"{BASE}/entity-facets?facet=spec.lifecycle&filter=kind=component").get_json()
    assert filtered["facets"]["spec.lifecycle"] == [
        {"value": "deprecated", "count": 1},
        {"value": "production", "count": 1},
        {"value": "retired", "count": 1},
    ]
    assert_backstage_error(client.get(f"{BASE}/entity-facets"), 400, "InputError", mentions="facet")


def test_legacy_list_filters_orders_offsets_and_links_the_next_page(client: FlaskClient) -> None:
    response = client.get(
        f"{BASE}/entities?filter=kind=component&fields=metadata.name&order=desc:metadata.name"
    )
    assert [e["metadata"]["name"] for e in response.get_json()] == ["web-shop", "old-thing", "legacy-batch"]
    assert "Link" not in response.headers
    first = client.get(f"{BASE}/entities?limit=4&offset=0")
    assert len(first.get_json()) == 4
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"')
    assert "offset=4" in link
    seen = [e["metadata"]["name"] for e in first.get_json()]
    url = link[1 : link.index(">")]
    while url:
        page = client.get(url)
        seen += [e["metadata"]["name"] for e in page.get_json()]
        url = page.headers["Link"][1 : page.headers["Link"].index(">")] if "Link" in page.headers else ""
    assert sorted(seen) == sorted(ref.split("/")[1] for ref in ALL_REFS)


def test_legacy_list_without_limit_is_capped_and_continued_by_link(make_app: Any) -> None:
    client = make_app(max_page_size=4).test_client()
    seen: list[str] = []
    url = f"{BASE}/entities?fields=metadata.name"
    while url:
        page = client.get(url)
        assert len(page.get_json()) <= 4
        seen += [e["metadata"]["name"] for e in page.get_json()]
        url = page.headers["Link"][1 : page.headers["Link"].index(">")] if "Link" in page.headers else ""
    assert sorted(seen) == sorted(ref.split("/")[1] for ref in ALL_REFS)


@pytest.mark.parametrize(
    ("query", "mentions"),
    [
        ("filter=%3Dproduct", "filter"),
        ("filter=relations.", "relations."),
        ("filter=kind%3D%01x", "control characters"),
        ("limit=-1", "limit"),
        ("limit=many", "limit"),
        ("limit=1.5", "limit"),
        ("cursor=garbage", "cursor"),
        ("cursor=eyJ2IjoxfQ", "cursor"),
        ("orderField=metadata.name,sideways", "orderField"),
        ("orderField=,asc", "orderField"),
        ("fields=spec.kpis[0]", "fields"),
        ("fields=metadata.%07name", "fields"),
        ("offset=10", "offset"),
        ("fullTextFilterTerm=" + "x" * 300, "fullTextFilterTerm"),
        ("totalItems=maybe", "totalItems"),
    ],
)
def test_malformed_queries_are_400_input_errors_naming_the_parameter(
    client: FlaskClient, query: str, mentions: str
) -> None:
    assert_backstage_error(
        client.get(f"{BASE}/entities/by-query?{query}"), 400, "InputError", mentions=mentions
    )


def test_legacy_list_refuses_malformed_order_and_after(client: FlaskClient) -> None:
    assert_backstage_error(
        client.get(f"{BASE}/entities?order=metadata.name"), 400, "InputError", mentions="order"
    )
    assert_backstage_error(client.get(f"{BASE}/entities?after=nope"), 400, "InputError", mentions="cursor")
    assert_backstage_error(client.get(f"{BASE}/entities?limit=-5"), 400, "InputError", mentions="limit")
    assert_backstage_error(
        client.get(f"{BASE}/entities?offset={10**24}"), 400, "InputError", mentions="offset"
    )
    assert client.get(f"{BASE}/entities?offset={2**53}").get_json() == []
