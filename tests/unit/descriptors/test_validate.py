"""Validation per kind: what is accepted, the warnings that count gaps, and the body-only entry point."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
import yaml

from catalog_sync.descriptors import LoadLimits, parse_file, validate_entity_body
from catalog_sync.descriptors.parsed import ParsedFile
from catalog_sync.model import KINDS

VALID = Path(__file__).parent / "valid"
OWNABLE = sorted(info.name for info in KINDS.values() if info.ownable)


def _parse(text: str, path: str = "catalog-info.yaml") -> ParsedFile:
    return parse_file(path, text.encode(), LoadLimits())


def _messages(parsed: object) -> list[str]:
    return [p.format() for p in parsed.all_problems()]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["ours.yaml", "backstage.yaml"])
def test_every_kind_written_in_full_is_valid_and_round_trips(name: str) -> None:
    data = (VALID / name).read_bytes()
    parsed = parse_file(name, data, LoadLimits())
    assert _messages(parsed) == []
    originals = [d for d in yaml.safe_load_all(data) if d]
    entities = [document.entity for document in parsed.documents]
    assert all(entity is not None for entity in entities)
    assert [e.to_dict() for e in entities if e is not None] == originals


def test_every_kind_is_covered_by_the_valid_fixtures() -> None:
    kinds = set()
    for path in VALID.glob("*.yaml"):
        kinds |= {
            d.entity.kind
            for d in parse_file(path.name, path.read_bytes(), LoadLimits()).documents
            if d.entity
        }
    assert kinds == {info.name for info in KINDS.values()}


def test_refs_of_entities_are_kind_namespace_name_lower_cased() -> None:
    parsed = parse_file("ours.yaml", (VALID / "ours.yaml").read_bytes(), LoadLimits())
    assert [d.ref for d in parsed.documents] == [
        "product:commerce/payments-api",
        "team:commerce/payments",
        "capability:default/card-payments",
        "scorecard:default/everything",
        "initiative:default/q1-runbooks-automated",
        "initiative:default/gold-by-summer",
    ]


_MINIMAL = {
    "Product": "spec: {type: service, lifecycle: production, capabilities: [c]}",
    "Capability": "spec: {parent: p}",
    "Component": "spec: {type: service, lifecycle: production}",
    "API": "spec: {type: openapi, lifecycle: production, definition: x}",
    "Resource": "spec: {type: database}",
    "System": "spec: {domain: d}",
    "Domain": "spec: {}",
}


@pytest.mark.parametrize("kind", OWNABLE)
def test_a_missing_owner_is_a_warning_on_every_ownable_kind(kind: str) -> None:
    api_version = "catalog/v1" if kind in ("Product", "Capability") else "backstage.io/v1alpha1"
    text = f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\n{_MINIMAL[kind]}\n"
    parsed = _parse(text)
    document = parsed.documents[0]
    assert document.valid
    assert _messages(parsed) == [
        f"catalog-info.yaml:5:1: warning: spec.owner: no owner; this entity counts as an ownership gap "
        f"[{kind.lower()}:default/x]"
    ]


def test_a_missing_spec_on_an_ownable_kind_points_the_owner_warning_at_the_document() -> None:
    parsed = _parse("apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: x\n")
    assert _messages(parsed) == [
        "catalog-info.yaml:1:1: warning: spec.owner: no owner; this entity counts as an ownership gap "
        "[system:default/x]"
    ]


@pytest.mark.parametrize("kind", ["Team", "Group", "User", "Location", "Scorecard"])
def test_kinds_that_are_not_owned_get_no_owner_warning(kind: str) -> None:
    paths = {"Team": "ours.yaml", "Scorecard": "ours.yaml"}
    parsed = parse_file("f.yaml", (VALID / paths.get(kind, "backstage.yaml")).read_bytes(), LoadLimits())
    assert [d for d in parsed.documents if d.entity and d.entity.kind == kind]
    assert not any("owner" in p.message for p in parsed.all_problems())


@pytest.mark.parametrize("capabilities", ["", "  capabilities: []\n"], ids=["missing", "empty"])
def test_a_product_without_capability_is_a_warning(capabilities: str) -> None:
    text = (
        "apiVersion: catalog/v1\nkind: Product\nmetadata:\n  name: p\nspec:\n"
        f"  type: service\n  lifecycle: production\n  owner: team:t\n{capabilities}"
    )
    parsed = _parse(text)
    assert parsed.documents[0].valid
    line_col = "9:3" if capabilities else "5:1"
    assert _messages(parsed) == [
        f"catalog-info.yaml:{line_col}: warning: spec.capabilities: no capability; counts as a "
        "product_without_capability gap [product:default/p]"
    ]


def test_a_location_with_absolute_targets_warns_that_they_are_not_read() -> None:
    text = (
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: l\nspec:\n"
        "  targets: [./a.yaml, https://example.com/b.yaml, /etc/c.yaml]\n"
    )
    parsed = _parse(text)
    assert parsed.documents[0].valid
    assert [(p.severity, p.field, p.line, p.column) for p in parsed.all_problems()] == [
        ("warning", "spec.targets[1]", 6, 23),
        ("warning", "spec.targets[2]", 6, 51),
    ]


def test_backstage_kinds_keep_unknown_spec_and_metadata_fields_our_kinds_refuse_them() -> None:
    backstage = _parse(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c\n  uid: 1\n"
        "spec:\n  type: service\n  lifecycle: production\n  owner: g\n  x-team: [a]\n"
    )
    assert _messages(backstage) == []
    entity = backstage.documents[0].entity
    assert entity is not None
    assert entity.spec["x-team"] == ["a"]
    assert entity.metadata["uid"] == 1
    ours = _parse("apiVersion: catalog/v1\nkind: Team\nmetadata:\n  name: t\n  uid: 1\n")
    assert ours.documents[0].entity is None
    assert "metadata.uid: unknown field" in _messages(ours)[0]


def test_the_example_of_the_spec_is_printed_exactly() -> None:
    text = (
        "apiVersion: catalog/v1\nkind: Product\nmetadata:\n  name: payments-api\n  title: Payments API\n"
        "  description: Takes card payments for the web shop.\n  tags: [payments, pci]\n"
        "spec:\n  type: service\n  owner: team:payments\n  capabilities:\n"
        "  - card-payments\n  lifecycle: live\n"
    )
    lines = _messages(_parse(text, "services/pay/catalog-info.yaml"))
    assert lines == [
        "services/pay/catalog-info.yaml:13:14: error: spec.lifecycle: must be one of experimental, "
        "production, deprecated, retired [product:default/payments-api]"
    ]


def test_problems_of_a_document_come_in_file_order() -> None:
    text = (
        "apiVersion: catalog/v1\nkind: Product\nmetadata:\n  name: p\nspec:\n"
        "  tier: 9\n  type: service\n  lifecycle: gone\n  owner: 'team:'\n"
    )
    assert [(p.line, p.field) for p in _parse(text).all_problems()] == [
        (5, "spec.capabilities"),
        (6, "spec.tier"),
        (8, "spec.lifecycle"),
        (9, "spec.owner"),
    ]


def test_one_bad_document_does_not_affect_the_others_in_its_file() -> None:
    good = (VALID / "ours.yaml").read_text()
    text = good + "---\napiVersion: catalog/v1\nkind: Team\nmetadata: {name: bad team}\n"
    parsed = _parse(text)
    assert [d.valid for d in parsed.documents] == [True, True, True, True, True, True, False]
    assert parsed.documents[-1].ref == "team:default/bad team"


def test_a_wrongly_cased_kind_says_how_to_write_it() -> None:
    parsed = _parse("apiVersion: backstage.io/v1alpha1\nkind: component\nmetadata: {name: c}\n")
    assert parsed.all_problems()[0].message.endswith("(kinds are case-sensitive: write Component)")


def test_the_empty_file_is_a_warning_not_an_error() -> None:
    for text in ("", "# only a comment\n", "---\n---\n"):
        parsed = _parse(text)
        assert not parsed.has_errors
        assert _messages(parsed) == ["catalog-info.yaml: warning: the file holds no descriptor (it is empty)"]


def test_validate_entity_body_checks_a_json_body_without_positions() -> None:
    body = yaml.safe_load((VALID / "ours.yaml").read_text().split("---")[0])
    document = validate_entity_body(copy.deepcopy(body))
    assert document.valid
    assert document.problems == []
    assert document.ref == "product:commerce/payments-api"
    body["spec"]["kpis"][1]["category"] = "happiness"
    del body["spec"]["owner"]
    document = validate_entity_body(body, "request")
    assert document.entity is None
    assert [p.format() for p in document.problems] == [
        "request: error: spec.kpis[1].category: must be one of speed-to-market, customer-satisfaction, "
        "business-alignment, team-performance, other [product:commerce/payments-api]",
        "request: warning: spec.owner: no owner; this entity counts as an ownership gap "
        "[product:commerce/payments-api]",
    ]


@pytest.mark.parametrize("body", [None, [], "text", 3, {"kind": 3}], ids=repr)
def test_validate_entity_body_never_raises(body: object) -> None:
    document = validate_entity_body(body)
    assert document.entity is None
    assert document.problems
    assert all(p.severity == "error" for p in document.problems)


def test_yaml_1_1_booleans_are_text_and_the_message_says_so() -> None:
    text = (
        "apiVersion: catalog/v1\nkind: Product\nmetadata:\n  name: p\nspec:\n  type: service\n"
        "  lifecycle: production\n  owner: t\n  capabilities: [c]\n"
        "  runbooks: [{title: t, url: u, automated: yes}]\n"
    )
    [error] = _parse(text).all_problems()
    assert error.message == "must be true or false ('yes' is text: YAML 1.2 reads it so)"


def test_parsed_files_cross_process_boundaries() -> None:
    parsed = parse_file("ours.yaml", (VALID / "ours.yaml").read_bytes(), LoadLimits())
    again = pickle.loads(pickle.dumps(parsed))
    assert again == parsed
    assert again.documents[0].entity.content_hash() == parsed.documents[0].entity.content_hash()  # type: ignore[union-attr]
