"""Deeply nested bodies and cursors answer 400 with the reason, never 500, on every endpoint that reads one.

A JSON body of 400,000 nested arrays made Python's parser raise ``RecursionError``, answered 500; a
by-query cursor nested the same way did too. YAML bodies are read by the descriptor loader, whose
nesting limit holds for flow sequences and for anchors that repeat a deep value.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from catalog_sync.descriptors import MAX_JSON_DEPTH
from tests.integration.api.conftest import AUTH
from tests.integration.api.test_catalog_query import assert_backstage_error

DEEP_JSON = b"[" * 400_000 + b"]" * 400_000
JSON_ENDPOINTS = [
    "/api/catalog/entities/by-refs",
    "/api/catalog/refresh",
    "/api/repositories",
]


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_four_hundred_thousand_nested_arrays_answer_400(writable: FlaskClient, path: str) -> None:
    started = time.perf_counter()
    response = writable.post(path, data=DEEP_JSON, content_type="application/json", headers=AUTH)
    assert time.perf_counter() - started < 2.0
    assert_backstage_error(
        response, 400, "InputError", mentions=f"nests arrays and objects deeper than {MAX_JSON_DEPTH} levels"
    )


@pytest.mark.parametrize(
    "body",
    [
        DEEP_JSON,
        b'{"location": "url:https://example.com/x", "entity": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001,
        b'{"location": "url:https://example.com/x", "entity": ' + b"[" * 900 + b"]" * 900 + b"}",
    ],
    ids=["arrays", "objects", "just-past-the-parser"],
)
def test_validate_entity_refuses_deep_bodies_in_its_own_error_shape(
    writable: FlaskClient, body: bytes
) -> None:
    response = writable.post("/api/catalog/validate-entity", data=body, content_type="application/json")
    assert response.status_code == 400
    [error] = response.get_json()["errors"]
    assert error["name"] == "InputError"
    assert f"deeper than {MAX_JSON_DEPTH} levels" in error["message"]


def test_a_body_at_the_depth_limit_is_read(writable: FlaskClient) -> None:
    refs = ["group:default/web"]
    body = '{"entityRefs": ' + str(refs).replace("'", '"') + ', "query": ' + "[" * 62 + "]" * 62 + "}"
    response = writable.post("/api/catalog/entities/by-refs", data=body, content_type="application/json")
    assert response.status_code == 400, "the nesting is fine; the query field itself is refused"
    assert "predicate queries are not supported" in response.get_json()["error"]["message"]


def cursor_of(raw: bytes, length: int) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")[:length]


@pytest.mark.parametrize(
    ("path", "length"),
    [
        ("/api/catalog/entities/by-query", 60_000),
        ("/api/repositories", 4096),
        ("/api/sync/runs", 4096),
    ],
)
def test_deeply_nested_cursors_answer_400(writable: FlaskClient, path: str, length: int) -> None:
    cursor = cursor_of(b"[" * 45_000 + b"]" * 45_000, length)
    response = writable.get(f"{path}?cursor={cursor}")
    assert_backstage_error(response, 400, "InputError", mentions="cursor")


YAML_BODIES: dict[str, bytes] = {
    "flow-sequences": b"[" * 100_000 + b"]" * 100_000,
    "block-and-flow": b"apiVersion: catalog/v1\nkind: Team\nmetadata: {name: t}\nspec:\n  x: "
    + b"[" * 5_000
    + b"]" * 5_000
    + b"\n",
    "anchors": b"a: &a "
    + b"[" * 60
    + b"1"
    + b"]" * 60
    + b"\nb: &b [*a, [*a, [*a, [*a, [*a]]]]]\nc: [*b, *b]\n",
}


@pytest.mark.parametrize("name", sorted(YAML_BODIES))
def test_deep_yaml_bodies_are_reported_as_invalid_files_not_failures(
    writable: FlaskClient, name: str
) -> None:
    response = writable.post("/api/validate", data=YAML_BODIES[name], content_type="application/yaml")
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert body["valid"] is False
    assert any(f"nesting deeper than {MAX_JSON_DEPTH} levels" in p["message"] for p in body["problems"])
