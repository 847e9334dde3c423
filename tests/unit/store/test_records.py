"""Entities as served: the Backstage JSON form and the ``fields`` projection."""

from __future__ import annotations

from datetime import UTC, datetime

from catalog_sync.store.records import StoredEntity, StoredProblem, project_fields

ENTITY = {
    "apiVersion": "backstage.io/v1alpha1",
    "kind": "Component",
    "metadata": {
        "name": "pay",
        "annotations": {"backstage.io/orphan": "true", "backstage.io/managed-by-location": "url:x"},
        "tags": ["a"],
    },
    "spec": {"owner": "team-a", "kpis": [{"name": "nps", "target": 1}, {"name": "lead", "unit": "d"}]},
    "relations": [{"type": "ownedBy", "targetRef": "group:default/team-a"}],
}


def test_fields_keep_the_named_paths_only() -> None:
    assert project_fields(ENTITY, ["kind", "metadata.name", "spec.owner"]) == {
        "kind": "Component",
        "metadata": {"name": "pay"},
        "spec": {"owner": "team-a"},
    }


def test_fields_reach_keys_that_contain_dots() -> None:
    assert project_fields(ENTITY, ["metadata.annotations.backstage.io/orphan"]) == {
        "metadata": {"annotations": {"backstage.io/orphan": "true"}}
    }


def test_missing_paths_are_left_out_and_none_means_everything() -> None:
    assert project_fields(ENTITY, ["spec.nothing", "status"]) == {}
    assert project_fields(ENTITY, None) == ENTITY


def test_fields_crossing_a_list_apply_to_each_element() -> None:
    assert project_fields(ENTITY, ["spec.kpis.name", "spec.kpis.unit"]) == {
        "spec": {"kpis": [{"name": "nps"}, {"name": "lead", "unit": "d"}]}
    }
    assert project_fields(ENTITY, ["relations.targetRef"]) == {
        "relations": [{"targetRef": "group:default/team-a"}]
    }


def test_the_served_form_adds_identity_relations_status_and_orphan_mark() -> None:
    stored = StoredEntity(
        id=1,
        uid="u-1",
        ref_key="component:default/pay",
        body={"apiVersion": "v", "kind": "Component", "metadata": {"name": "pay"}, "spec": {}},
        etag="e-1",
        repository_id=None,
        path=None,
        line=None,
        orphaned_at=datetime(2024, 1, 1, tzinfo=UTC),
        relations=[("ownedBy", "group:default/t")],
        problems=[StoredProblem(category="descriptor", severity="error", message="bad", field="spec.tier")],
    )
    served = stored.to_entity_dict()
    assert served["metadata"] == {
        "name": "pay",
        "uid": "u-1",
        "etag": "e-1",
        "annotations": {"backstage.io/orphan": "true"},
    }
    assert served["relations"] == [{"type": "ownedBy", "targetRef": "group:default/t"}]
    assert served["status"]["items"] == [
        {
            "type": "backstage.io/catalog-processing",
            "level": "error",
            "message": "InputError: spec.tier: bad",
            "error": {"name": "InputError", "message": "spec.tier: bad"},
        }
    ]
    # The stored body itself is not changed by serving it.
    assert "uid" not in stored.body["metadata"]
