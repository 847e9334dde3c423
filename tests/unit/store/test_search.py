"""Entities flatten into search rows exactly as Backstage's catalog flattens them."""

from __future__ import annotations

from catalog_sync.store.search import (
    MAX_KEY_LENGTH,
    MAX_VALUE_LENGTH,
    build_search_rows,
    case_conflicting_keys,
)


def _rows(body: dict[str, object]) -> set[tuple[str, str | None, str | None]]:
    return set(build_search_rows(body))


BODY: dict[str, object] = {
    "apiVersion": "backstage.io/v1alpha1",
    "kind": "Component",
    "metadata": {
        "name": "Payments-API",
        "uid": "0d4c0a4e-1111-2222-3333-444455556666",
        "etag": "abc",
        "title": "Payments API",
        "tags": ["Java", "pci", "java"],
        "labels": {"Tier": "Gold"},
        "annotations": {"backstage.io/orphan": "true"},
    },
    "spec": {
        "type": "service",
        "owner": "team:Payments",
        "lifecycle": "production",
        "tier": 1,
        "ratio": 2.0,
        "public": False,
        "notes": None,
        "kpis": [{"name": "Lead-Time", "target": 1}, {"name": "nps", "target": 50}],
        "support": {},
    },
    "relations": [{"type": "ownedBy", "targetRef": "group:default/x"}],
    "status": {"items": [{"level": "error"}]},
}


def test_keys_are_dotted_lower_cased_paths_and_values_are_lower_cased_with_the_original_kept() -> None:
    rows = _rows(BODY)
    assert ("kind", "component", "Component") in rows
    assert ("apiversion", "backstage.io/v1alpha1", "backstage.io/v1alpha1") in rows
    assert ("metadata.name", "payments-api", "Payments-API") in rows
    assert ("metadata.title", "payments api", "Payments API") in rows
    assert ("metadata.labels.tier", "gold", "Gold") in rows
    assert ("metadata.annotations.backstage.io/orphan", "true", "true") in rows
    assert ("spec.owner", "team:payments", "team:Payments") in rows


def test_a_missing_namespace_reads_default_and_uid_is_indexed_but_etag_is_not() -> None:
    rows = _rows(BODY)
    assert ("metadata.namespace", "default", "default") in rows
    assert (
        "metadata.uid",
        "0d4c0a4e-1111-2222-3333-444455556666",
        "0d4c0a4e-1111-2222-3333-444455556666",
    ) in rows
    assert not any(key == "metadata.etag" for key, _, _ in rows)


def test_relations_and_status_are_never_indexed() -> None:
    assert not any(key.startswith(("relations", "status")) for key, _, _ in _rows(BODY))


def test_array_elements_share_the_key_and_strings_also_give_a_true_row() -> None:
    rows = build_search_rows(BODY)
    tags = [row for row in rows if row[0] == "metadata.tags"]
    # "Java" and "java" are one lower-cased value, so one row (the first spelling is kept).
    assert tags == [("metadata.tags", "java", "Java"), ("metadata.tags", "pci", "pci")]
    assert ("metadata.tags.java", "true", "true") in rows
    assert ("metadata.tags.pci", "true", "true") in rows


def test_arrays_of_objects_flatten_per_element() -> None:
    rows = _rows(BODY)
    assert ("spec.kpis.name", "lead-time", "Lead-Time") in rows
    assert ("spec.kpis.name", "nps", "nps") in rows
    assert ("spec.kpis.target", "1", "1") in rows
    assert ("spec.kpis.target", "50", "50") in rows


def test_scalars_print_as_javascript_prints_them_and_null_gives_a_valueless_row() -> None:
    rows = _rows(BODY)
    assert ("spec.tier", "1", "1") in rows
    assert ("spec.ratio", "2", "2") in rows
    assert ("spec.public", "false", "false") in rows
    assert ("spec.notes", None, None) in rows
    # An empty object has no leaf, so no row.
    assert not any(key == "spec.support" for key, _, _ in rows)


def test_over_long_values_keep_their_key_without_a_value_and_over_long_keys_are_dropped() -> None:
    long_key = "k" * (MAX_KEY_LENGTH + 1)
    body: dict[str, object] = {
        "kind": "Component",
        "metadata": {"name": "x", "description": "d" * (MAX_VALUE_LENGTH + 1)},
        "spec": {long_key: "v", "fits": "v" * MAX_VALUE_LENGTH},
    }
    rows = _rows(body)
    assert ("metadata.description", None, None) in rows
    assert not any(key.endswith(long_key) for key, _, _ in rows)
    assert ("spec.fits", "v" * MAX_VALUE_LENGTH, "v" * MAX_VALUE_LENGTH) in rows


def test_given_uid_is_indexed_when_the_body_has_none() -> None:
    rows = set(build_search_rows({"kind": "Group", "metadata": {"name": "a"}}, uid="U-1"))
    assert ("metadata.uid", "u-1", "U-1") in rows
    assert ("metadata.name", "a", "a") in rows


def test_keys_differing_only_in_case_are_reported() -> None:
    body = {"kind": "Component", "metadata": {"name": "x"}, "spec": {"foo": 1, "Foo": 2, "bar": 3}}
    assert case_conflicting_keys(body) == ["spec.foo"]
    assert case_conflicting_keys(BODY) == []
