"""Refs checked against a catalog before the commit: ``POST /api/validate`` against the catalog it
serves, ``catalog-sync validate --catalog URL`` against a catalog served over real HTTP, and the JSON
Schema an editor modeline names, served by the same catalog."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import requests
import yaml
from flask import Flask
from flask.testing import FlaskClient

from tests.fixtures.cli import catalog_sync
from tests.fixtures.http import serving

ROOT = Path(__file__).resolve().parents[3]

TYPOS = """\
apiVersion: catalog/v1
kind: Product
metadata:
  name: checkout
spec:
  type: service
  lifecycle: production
  owner: paymnts
  capabilities: [payment-processin]
  dependsOn: [product:payments-api]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: basket}
spec: {type: service, lifecycle: production, owner: group:web, system: shopp}
"""

KNOWN = """\
apiVersion: catalog/v1
kind: Product
metadata:
  name: checkout
spec:
  type: service
  lifecycle: production
  owner: payments
  capabilities: [payment-processing, checkout-flow]
  dependsOn: [product:payments-api]
---
apiVersion: catalog/v1
kind: Capability
metadata: {name: checkout-flow}
spec: {owner: payments}
"""

OWNER_TYPO = (
    "spec.owner",
    8,
    10,
    "team:default/paymnts (nor group:default/paymnts) is not in the catalog; "
    "did you mean team:default/payments?",
)
CAPABILITY_TYPO = (
    "spec.capabilities[0]",
    9,
    18,
    "capability:default/payment-processin (nor domain:default/payment-processin) is not in the catalog; "
    "did you mean capability:default/payment-processing?",
)
SYSTEM_TYPO = (
    "spec.system",
    15,
    72,
    "system:default/shopp is not in the catalog; did you mean system:default/shop?",
)


def _errors(answer: dict[str, object]) -> list[tuple[object, ...]]:
    problems = answer["problems"]
    assert isinstance(problems, list)
    return [(p["field"], p["line"], p["column"], p["message"]) for p in problems if p["severity"] == "error"]


def test_the_api_names_each_unknown_ref_with_its_line_field_and_nearest_name(client: FlaskClient) -> None:
    answer = client.post("/api/validate?path=svc/catalog-info.yaml", data=TYPOS).get_json()
    assert answer["valid"] is False
    assert _errors(answer) == [OWNER_TYPO, CAPABILITY_TYPO, SYSTEM_TYPO]
    refs = {p["entityRef"] for p in answer["problems"] if p["severity"] == "error"}
    assert refs == {"product:default/checkout", "component:default/basket"}


def test_refs_to_the_catalog_or_to_the_same_file_are_accepted(client: FlaskClient) -> None:
    answer = client.post("/api/validate", data=KNOWN).get_json()
    assert answer["valid"] is True, answer["problems"]
    assert answer["counts"]["errors"] == 0


def test_the_openapi_description_says_what_validate_checks(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/validate"]["post"]
    text = operation.get("description", "") + operation.get("summary", "")
    assert "did you mean" in text
    assert "spec.owner" in text


def test_the_cli_checks_refs_against_a_catalog_served_over_http(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "catalog-info.yaml").write_text(TYPOS)
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "catalog-info.yaml").write_text(KNOWN)
    with serving(app) as url:
        result = catalog_sync("validate", "--catalog", url, "svc", cwd=tmp_path)
        known = catalog_sync("validate", "--catalog", url + "/", "ok", cwd=tmp_path)
        as_json = catalog_sync("validate", "--catalog", url, "--format", "json", "svc", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines == [
        f"svc/catalog-info.yaml:{line}:{column}: error: {field}: {message} [{ref}]"
        for (field, line, column, message), ref in zip(
            (OWNER_TYPO, CAPABILITY_TYPO, SYSTEM_TYPO),
            ("product:default/checkout", "product:default/checkout", "component:default/basket"),
            strict=True,
        )
    ] + ["1 file, 2 entities: 3 errors, 0 warnings"]
    assert known.returncode == 0, known.stdout + known.stderr
    report = json.loads(as_json.stdout)
    assert next((p["field"], p["entityRef"]) for p in report["problems"]) == (
        "spec.owner",
        "product:default/checkout",
    )


def test_the_schema_is_served_for_editors_with_caching_headers(client: FlaskClient) -> None:
    response = client.get("/schemas/catalog-info.schema.json")
    assert response.status_code == 200
    assert response.mimetype == "application/schema+json"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    committed = (ROOT / "descriptors" / "schema" / "catalog-info.schema.json").read_bytes()
    assert response.get_data() == committed
    etag = response.headers["ETag"]
    again = client.get("/schemas/catalog-info.schema.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    product = client.get("/schemas/product.schema.json")
    assert product.get_data() == (ROOT / "descriptors" / "schema" / "product.schema.json").read_bytes()
    missing = client.get("/schemas/../../etc/passwd")
    assert missing.status_code == 404
    assert client.get("/schemas/nope.schema.json").status_code == 404


def test_the_schema_needs_no_token_when_reads_do(make_app: object) -> None:
    locked = make_app(read_requires_token=True).test_client()  # type: ignore[operator]
    assert locked.get("/api/catalog/entities").status_code == 401
    assert locked.get("/schemas/catalog-info.schema.json").status_code == 200


def test_the_modeline_init_writes_names_a_schema_the_catalog_serves(app: Flask, tmp_path: Path) -> None:
    with serving(app) as url:
        written = catalog_sync("init", "--catalog", url, cwd=tmp_path)
        assert written.returncode == 0, written.stderr
        text = (tmp_path / "catalog-info.yaml").read_text()
        modeline = text.splitlines()[0]
        schema_url = modeline.removeprefix("# yaml-language-server: $schema=")
        assert schema_url == url + "/schemas/catalog-info.schema.json"
        schema = requests.get(schema_url, timeout=30).json()
    validator = jsonschema.Draft202012Validator(schema)
    [document] = [d for d in yaml.safe_load_all(text) if d]
    assert list(validator.iter_errors(document)) == []
    broken = {**document, "spec": {**document["spec"], "owner": "Team Payments!"}}
    [error] = list(validator.iter_errors(broken))
    assert (
        error.schema.get("patternErrorMessage")
        == "not a valid entity reference (write [kind:][namespace/]name)"
    )
