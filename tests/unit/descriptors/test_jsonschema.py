"""The editor's JSON Schemas: committed files are current, valid 2020-12, and agree with validation.

Agreement is checked on every document of the example repositories, of the valid fixtures and of the
invalid corpus: the JSON Schema accepts a document exactly when marshmallow accepts it. What JSON
Schema cannot express is listed in ``MARSHMALLOW_ONLY`` and must stay short.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from catalog_sync.descriptors import jsonschema as generator
from catalog_sync.descriptors.loader import LoadLimits, load_documents
from catalog_sync.descriptors.validate import check_body
from catalog_sync.errors import DescriptorError
from catalog_sync.model import KINDS

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_DIR = ROOT / "descriptors" / "schema"
HERE = Path(__file__).parent

MARSHMALLOW_ONLY = {
    "duplicate check id": "check ids are unique in a scorecard: uniqueness of one property across items",
    "(the levels)": "a check's level is one of the scorecard's levels: a value compared with another field",
    "not a valid regular expression": "a matches value must compile: format 'regex' is only an annotation",
    "duplicate KPI id": "KPI ids are unique in a product, and an id may be derived from the name",
    "the name gives no id": "an id derived from the name: a transformation JSON Schema cannot compute",
    "not a valid PromQL expression": "a KPI's query must parse: PromQL is no language JSON Schema knows",
    "must be a day written": "a real calendar day (no 30 February): format 'date' is only an annotation",
    "days ahead": "an exemption ends at most 180 days after the day it is read: a bound that moves daily",
    "on or after startsOn": "an initiative is due on or after it starts: a value compared with another field",
}
"""Rules only marshmallow checks, by a fragment of their message, with the reason JSON Schema cannot."""


def _validator(name: str = generator.COMBINED) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def test_committed_schemas_equal_a_fresh_generation() -> None:
    fresh = generator.generate()
    committed = {path.name for path in SCHEMA_DIR.glob("*.json")}
    assert committed == set(fresh), "run `make schemas`"
    for name, schema in fresh.items():
        assert (SCHEMA_DIR / name).read_text(encoding="utf-8") == generator.render(schema), (
            f"{name}: run make schemas"
        )


def test_the_generator_runs_as_a_module(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "catalog_sync.descriptors.jsonschema", str(tmp_path)], check=True, cwd=ROOT
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(generator.generate())


@pytest.mark.parametrize("name", sorted(generator.generate()))
def test_every_schema_is_a_valid_2020_12_schema(name: str) -> None:
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_there_is_one_schema_per_kind_and_the_combined_one_names_them_all() -> None:
    names = {f"{info.name.lower()}.schema.json" for info in KINDS.values()}
    assert names | {generator.COMBINED} == set(generator.generate())
    combined = generator.combined_schema()
    assert set(combined["$defs"]) == {info.name for info in KINDS.values()}


def _documents() -> list[tuple[str, Any]]:
    """Every document that loads, from the examples (whatever they hold), fixtures and corpus."""
    files = sorted((ROOT / "descriptors" / "examples").rglob("*.y*ml"))
    files += sorted((HERE / "valid").glob("*.yaml")) + sorted((HERE / "corpus").glob("*.yaml"))
    out: list[tuple[str, Any]] = []
    for path in files:
        try:
            documents = load_documents(path.read_bytes(), LoadLimits())
        except DescriptorError:
            continue  # YAML-level hostility: there is no document to compare
        out.extend((f"{path.relative_to(ROOT)}#{d.index}", d.value) for d in documents)
    return out


DOCUMENTS = _documents()


@pytest.mark.parametrize(("where", "document"), DOCUMENTS, ids=[w for w, _ in DOCUMENTS])
def test_json_schema_and_marshmallow_agree(where: str, document: Any) -> None:
    _, _, problems = check_body(document, where)
    errors = [p.message for p in problems if p.severity == "error"]
    schema_errors = [e.message for e in _validator().iter_errors(document)]
    if errors and all(any(fragment in e for fragment in MARSHMALLOW_ONLY) for e in errors):
        assert schema_errors == [], "JSON Schema now expresses this rule: drop it from MARSHMALLOW_ONLY"
        return
    assert bool(errors) == bool(schema_errors), (errors, schema_errors)


def test_the_agreement_covers_valid_and_invalid_documents_of_every_kind() -> None:
    kinds_valid: set[Any] = set()
    kinds_invalid: set[Any] = set()
    for _, document in DOCUMENTS:
        kind = document.get("kind") if isinstance(document, dict) else None
        (kinds_invalid if check_body(document, "x")[0] is None else kinds_valid).add(kind)
    assert {info.name for info in KINDS.values()} <= kinds_valid
    assert len(kinds_invalid) >= 10
    assert len(MARSHMALLOW_ONLY) <= 9


def test_each_marshmallow_only_rule_is_exercised_by_the_corpus() -> None:
    messages = [
        p.message for _, document in DOCUMENTS for p in check_body(document, "x")[2] if p.severity == "error"
    ]
    for fragment in MARSHMALLOW_ONLY:
        assert any(fragment in m for m in messages), fragment


def test_a_kind_schema_checks_its_own_kind() -> None:
    validator = _validator("product.schema.json")
    product: dict[str, Any] = {
        "apiVersion": "catalog/v1",
        "kind": "Product",
        "metadata": {"name": "p"},
        "spec": {"type": "service", "lifecycle": "production"},
    }
    assert list(validator.iter_errors(product)) == []
    assert list(validator.iter_errors({**product, "kind": "Team"}))
    assert list(validator.iter_errors({**product, "spec": {**product["spec"], "tier": 7}}))


def test_schemas_carry_descriptions_and_allowed_values_for_the_editor() -> None:
    product = generator.kind_schema("Product")
    lifecycle = product["properties"]["spec"]["properties"]["lifecycle"]
    assert lifecycle["enum"] == ["experimental", "production", "deprecated", "retired"]
    assert lifecycle["description"]
    assert product["properties"]["spec"]["additionalProperties"] is False
    component = generator.kind_schema("Component")
    assert "additionalProperties" not in component["properties"]["spec"]


def _patterned(node: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every schema object that carries a ``pattern``, with where it is."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            found.append((where, node))
        for key, value in node.items():
            found.extend(_patterned(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_patterned(value, f"{where}/{index}"))
    return found


@pytest.mark.parametrize("name", sorted(generator.generate()))
def test_every_pattern_is_explained_in_words_for_the_editor(name: str) -> None:
    """The YAML language server shows ``patternErrorMessage`` instead of the raw regular expression."""
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    patterned = _patterned(schema)
    assert patterned, name
    for where, node in patterned:
        message = node.get("patternErrorMessage")
        assert isinstance(message, str), f"{name}{where}: a pattern without patternErrorMessage"
        assert message, f"{name}{where}"
        assert node["pattern"] not in message, f"{name}{where}"


def test_a_bad_ref_or_name_reads_as_the_rule_not_as_a_regular_expression() -> None:
    validator = _validator("product.schema.json")
    product: dict[str, Any] = {
        "apiVersion": "catalog/v1",
        "kind": "Product",
        "metadata": {"name": "-bad-"},
        "spec": {"type": "service", "lifecycle": "production", "owner": "Team Payments!"},
    }
    explained = {
        ".".join(map(str, error.absolute_path)): error.schema.get("patternErrorMessage")
        for error in validator.iter_errors(product)
    }
    assert explained["spec.owner"] == "not a valid entity reference (write [kind:][namespace/]name)"
    assert explained["metadata.name"].startswith("must start and end with a letter or digit")
