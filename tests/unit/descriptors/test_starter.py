"""The starter descriptor of ``catalog-sync init`` is valid as written, and so is its commented Team."""

from __future__ import annotations

from catalog_sync.descriptors import LoadLimits, parse_file
from catalog_sync.descriptors.starter import STARTER_DESCRIPTOR


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
