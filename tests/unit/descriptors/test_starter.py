"""The starter descriptor of ``catalog-sync init`` is valid as written, and so is its commented Team."""

from __future__ import annotations

from catalog_sync.descriptors import LoadLimits, parse_file
from catalog_sync.descriptors.starter import STARTER_DESCRIPTOR, schema_url_problem, starter_descriptor


def test_the_starter_product_validates_without_errors_or_warnings() -> None:
    parsed = parse_file("catalog-info.yaml", STARTER_DESCRIPTOR.encode(), LoadLimits())
    assert parsed.all_problems() == []
    [document] = parsed.documents
    assert document.ref == "product:default/my-product"
    assert document.entity is not None
    assert document.entity.spec["owner"] == "team:my-team"


def test_the_commented_team_validates_once_uncommented() -> None:
    lines = STARTER_DESCRIPTOR.splitlines()
    start = lines.index("# ---")
    uncommented = "\n".join(line.removeprefix("# ") for line in lines[start:]) + "\n"
    parsed = parse_file("catalog-info.yaml", (STARTER_DESCRIPTOR + uncommented).encode(), LoadLimits())
    assert parsed.all_problems() == []
    assert [d.ref for d in parsed.documents] == ["product:default/my-product", "team:default/my-team"]


def test_with_a_schema_url_the_first_line_is_the_editor_modeline() -> None:
    text = starter_descriptor("https://catalog.example.com/schemas/catalog-info.schema.json")
    assert text.splitlines()[0] == (
        "# yaml-language-server: $schema=https://catalog.example.com/schemas/catalog-info.schema.json"
    )
    assert "<where" not in text
    assert "catalog-sync init --catalog" not in text
    parsed = parse_file("catalog-info.yaml", text.encode(), LoadLimits())
    assert parsed.all_problems() == []


def test_without_one_the_file_says_how_to_get_the_modeline() -> None:
    assert "yaml-language-server" not in STARTER_DESCRIPTOR.splitlines()[0]
    assert "catalog-sync init --catalog https://CATALOG" in STARTER_DESCRIPTOR
    assert "<where" not in STARTER_DESCRIPTOR


def test_a_url_that_would_add_yaml_or_publish_credentials_is_refused() -> None:
    assert schema_url_problem("https://catalog.example.com/schemas/catalog-info.schema.json") is None
    assert schema_url_problem("http://x\nkind: Evil") is not None
    assert schema_url_problem("javascript:alert(1)") is not None
    assert "credentials" in (schema_url_problem("https://a:b@c.example.com/s.json") or "")
