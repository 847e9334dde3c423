"""What every endpoint shares: error shapes, methods, body limits, tokens, CORS, observers, OpenAPI."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask.testing import FlaskClient

from plugin_api.hooks import OBSERVERS_KEY, UNMATCHED_ROUTE, RequestRecord
from tests.integration.api.conftest import AUTH, TOKEN
from tests.integration.api.test_catalog_query import assert_backstage_error

WRITES = [
    ("POST", "/api/repositories"),
    ("POST", "/api/repositories/1/refresh"),
    ("POST", "/api/sync"),
    ("POST", "/api/catalog/refresh"),
    ("DELETE", "/api/catalog/entities/by-uid/x"),
]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nope"),
        ("GET", "/api/catalog/entities/by-name/a"),
        ("POST", "/nothing"),
        ("GET", "/nothing/here"),
    ],
)
def test_unknown_routes_are_404_in_backstage_shape(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method)
    assert_backstage_error(response, 404, "NotFoundError", mentions=path)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/repositories", {"GET", "POST"}),
        ("DELETE", "/api/sources", {"GET"}),
        ("POST", "/healthz", {"GET"}),
        ("PATCH", "/api/catalog/entities/by-uid/x", {"GET", "DELETE"}),
    ],
)
def test_wrong_methods_are_405_with_the_allow_header(
    client: FlaskClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.open(path, method=method)
    assert_backstage_error(response, 405, "MethodNotAllowedError", mentions=method)
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_bodies_over_the_limit_are_413_before_anything_changes(make_app: Any) -> None:
    client = make_app(max_body_bytes=2048).test_client()
    big = "x" * 4096
    response = client.post(
        "/api/repositories", json={"url": f"https://git.example.com/{big}.git"}, headers=AUTH
    )
    assert_backstage_error(response, 413, "PayloadTooLargeError", mentions="2048")
    assert client.get("/api/repositories").get_json()["totalItems"] == 5
    assert_backstage_error(client.post("/api/validate", data=big), 413, "PayloadTooLargeError")
    streamed = client.post(
        "/api/validate",
        input_stream=io.BytesIO(big.encode()),
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_backstage_error(streamed, 413, "PayloadTooLargeError")
    assert client.post("/api/validate", data="a: 1\n").status_code == 200


def test_json_bodies_that_are_not_json_are_refused(writable: FlaskClient) -> None:
    not_json = writable.post(
        "/api/repositories", data="{url: x", content_type="application/json", headers=AUTH
    )
    assert_backstage_error(not_json, 400, "InputError", mentions="not valid JSON")
    form = writable.post(
        "/api/repositories",
        data="url=https://x/y.git",
        content_type="application/x-www-form-urlencoded",
        headers=AUTH,
    )
    assert_backstage_error(form, 415, "UnsupportedMediaTypeError", mentions="JSON")
    array = writable.post("/api/repositories", json=["https://x/y.git"], headers=AUTH)
    assert_backstage_error(array, 400, "InputError")
    binary = writable.post("/api/catalog/entities/by-refs", data=b"\xff\xfe", content_type="application/json")
    assert_backstage_error(binary, 400, "InputError")
    assert writable.get("/api/repositories").get_json()["totalItems"] == 5


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_writes_are_refused_when_no_tokens_are_configured(make_app: Any, method: str, path: str) -> None:
    client = make_app(tokens=()).test_client()
    response = client.open(path, method=method, json={}, headers=AUTH)
    assert_backstage_error(response, 401, "AuthenticationError", mentions="no tokens are configured")


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_writes_with_a_wrong_token_are_401(client: FlaskClient, method: str, path: str) -> None:
    wrong = {"Authorization": f"Bearer {TOKEN}x"}
    assert_backstage_error(
        client.open(path, method=method, json={}, headers=wrong),
        401,
        "AuthenticationError",
        mentions="invalid",
    )
    assert_backstage_error(
        client.open(path, method=method, json={}), 401, "AuthenticationError", mentions="missing"
    )


def test_reads_are_open_unless_read_requires_token(client: FlaskClient, make_app: Any) -> None:
    assert client.get("/api/catalog/entities").status_code == 200
    assert client.post("/api/catalog/entities/by-refs", json={"entityRefs": []}).status_code == 200
    closed = make_app(read_requires_token=True).test_client()
    for path in ("/api/catalog/entities", "/api/repositories", "/api/openapi.json"):
        assert_backstage_error(closed.get(path), 401, "AuthenticationError")
        assert closed.get(path, headers=AUTH).status_code == 200
    assert closed.get("/healthz").status_code == 200
    assert closed.get("/readyz").status_code == 200


def test_cors_answers_the_configured_origins_only(make_app: Any) -> None:
    client = make_app(cors_origins=("https://portal.example.com",)).test_client()
    origin = {"Origin": "https://portal.example.com"}
    response = client.get("/api/catalog/entities", headers=origin)
    assert response.headers["Access-Control-Allow-Origin"] == "https://portal.example.com"
    assert "Origin" in response.headers["Vary"]
    preflight = client.options(
        "/api/sync",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    other = client.get("/api/catalog/entities", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers
    closed = make_app().test_client().get("/api/catalog/entities", headers=origin)
    assert "Access-Control-Allow-Origin" not in closed.headers


def test_observers_see_method_route_rule_status_and_duration(make_app: Any) -> None:
    app = make_app()
    records: list[RequestRecord] = []

    def broken_observer(_: RequestRecord) -> None:
        raise RuntimeError("an observer failing must not fail the request")

    app.extensions[OBSERVERS_KEY].extend([broken_observer, records.append])
    client = app.test_client()
    assert client.get("/api/repositories/1").status_code == 200
    client.get("/api/repositories/2?x=1")
    client.get("/no/such/thing")
    client.post("/api/sync")
    assert [(r.method, r.route, r.status) for r in records] == [
        ("GET", "/api/repositories/<int:repository_id>", 200),
        ("GET", "/api/repositories/<int:repository_id>", 200),
        ("GET", UNMATCHED_ROUTE, 404),
        ("POST", "/api/sync", 401),
    ]
    assert all(r.duration_seconds > 0 for r in records)


def test_a_bug_is_a_500_in_backstage_shape_without_details(make_app: Any, caplog: Any) -> None:
    def explode() -> None:
        raise RuntimeError("internal detail that must stay in the log")

    client = make_app(sync_trigger=explode).test_client()
    response = client.post("/api/sync", headers=AUTH)
    assert_backstage_error(response, 500, "Error")
    assert "internal detail" not in response.get_data(as_text=True)
    assert "internal detail" in caplog.text


def test_openapi_is_generated_for_every_endpoint_with_security_on_writes(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "a token of api.tokens",
    }
    paths = spec["paths"]
    for path in (
        "/api/catalog/entities/by-query",
        "/api/catalog/entities/by-refs",
        "/api/catalog/entity-facets",
        "/api/catalog/locations",
        "/api/catalog/validate-entity",
        "/api/repositories/{repository_id}",
        "/api/sources",
        "/api/sync/runs",
        "/api/validate",
        "/api/export/backstage",
        "/healthz",
        "/readyz",
    ):
        assert path in paths, path
    for method, path in WRITES:
        template = path.replace("/1/", "/{repository_id}/").replace("by-uid/x", "by-uid/{uid}")
        assert paths[template][method.lower()]["security"] == [{"bearerAuth": []}], template
    assert "security" not in paths["/api/catalog/entities/by-query"]["get"]
    by_query = {p["name"] for p in paths["/api/catalog/entities/by-query"]["get"]["parameters"]}
    assert {"filter", "fields", "limit", "orderField", "cursor", "fullTextFilterTerm"} <= by_query
    error = spec["components"]["schemas"]["BackstageError"]
    assert set(error["required"]) == {"error", "response"}
