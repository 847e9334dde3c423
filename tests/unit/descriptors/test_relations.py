"""Relations derived from an entity's spec, and the targets of a Location."""

from __future__ import annotations

from pathlib import Path

from catalog_sync.descriptors import LoadLimits, derive_relations, location_targets, parse_file
from catalog_sync.model import Entity, EntityRef, Relation

VALID = Path(__file__).parent / "valid"


def _entities(name: str) -> dict[str, Entity]:
    parsed = parse_file(name, (VALID / name).read_bytes(), LoadLimits())
    return {str(d.entity.ref): d.entity for d in parsed.documents if d.entity is not None}


def _edges(entity: Entity, resolve: object = None) -> list[tuple[str, str]]:
    return [(r.type, str(r.target)) for r in derive_relations(entity, resolve)]  # type: ignore[arg-type]


def test_a_product_is_owned_part_of_its_capabilities_and_depends_on_products() -> None:
    product = _entities("ours.yaml")["product:commerce/payments-api"]
    assert _edges(product) == [
        ("ownedBy", "team:commerce/payments"),
        ("partOf", "capability:commerce/card-payments"),
        ("partOf", "domain:commerce/commerce"),
        ("dependsOn", "product:commerce/fraud-check"),
        ("dependsOn", "component:default/ledger"),
    ]
    assert all(r.source == product.ref for r in derive_relations(product))


def test_a_team_is_child_of_its_parent_and_has_its_members_as_users() -> None:
    team = _entities("ours.yaml")["team:commerce/payments"]
    assert _edges(team) == [
        ("childOf", "team:commerce/commerce"),
        ("hasMember", "user:commerce/amara.okafor"),
        ("hasMember", "user:commerce/lena.fischer"),
    ]  # "Jo Bloggs" is a display name, not a user name: no edge


def test_a_capability_is_owned_and_part_of_its_parent() -> None:
    capability = _entities("ours.yaml")["capability:default/card-payments"]
    assert _edges(capability) == [
        ("ownedBy", "team:default/commerce"),
        ("partOf", "capability:default/payments"),
    ]


def test_backstage_kinds_follow_backstage_relations() -> None:
    entities = _entities("backstage.yaml")
    assert _edges(entities["component:default/ledger"]) == [
        ("ownedBy", "group:default/payments"),
        ("partOf", "system:default/payments-platform"),
        ("partOf", "component:default/core"),
        ("providesApi", "api:default/ledger-api"),
        ("consumesApi", "api:default/fx-rates"),
        ("dependsOn", "resource:default/ledger-db"),
        ("dependencyOf", "component:default/checkout"),
    ]
    assert _edges(entities["api:default/ledger-api"]) == [
        ("ownedBy", "group:default/payments"),
        ("partOf", "system:default/payments-platform"),
    ]
    assert _edges(entities["resource:default/ledger-db"]) == [
        ("ownedBy", "group:default/payments"),
        ("partOf", "system:default/payments-platform"),
        ("dependsOn", "resource:default/backups"),
        ("dependencyOf", "component:default/ledger"),
    ]
    assert _edges(entities["system:default/payments-platform"]) == [
        ("ownedBy", "group:default/payments"),
        ("partOf", "domain:default/commerce"),
    ]
    assert _edges(entities["domain:default/commerce"]) == [
        ("ownedBy", "group:default/payments"),
        ("partOf", "domain:default/retail"),
    ]
    assert _edges(entities["group:default/payments"]) == [
        ("childOf", "group:default/engineering"),
        ("hasMember", "user:default/lena.fischer"),
        ("hasMember", "user:default/amara.okafor"),
    ]
    assert _edges(entities["user:default/lena.fischer"]) == [("memberOf", "group:default/payments")]
    assert _edges(entities["location:default/more"]) == []


def test_group_children_become_parent_of_edges() -> None:
    group = Entity("backstage.io/v1alpha1", "Group", {"name": "eng"}, {"type": "org", "children": ["a", "b"]})
    assert _edges(group) == [("parentOf", "group:default/a"), ("parentOf", "group:default/b")]


def test_a_bare_owner_falls_back_to_a_group_only_when_no_team_has_that_name() -> None:
    product = Entity("catalog/v1", "Product", {"name": "p"}, {"owner": "payments"})
    only_group = {EntityRef.of("group", "payments")}
    both = only_group | {EntityRef.of("team", "payments")}
    assert _edges(product) == [("ownedBy", "team:default/payments")]
    assert _edges(product, lambda ref: ref in only_group) == [("ownedBy", "group:default/payments")]
    assert _edges(product, lambda ref: ref in both) == [("ownedBy", "team:default/payments")]
    assert _edges(product, lambda ref: False) == [("ownedBy", "team:default/payments")]


def test_backstage_owner_defaults_to_group_and_falls_back_to_a_team() -> None:
    component = Entity("backstage.io/v1alpha1", "Component", {"name": "c"}, {"owner": "payments"})
    only_team = {EntityRef.of("team", "payments")}
    assert _edges(component) == [("ownedBy", "group:default/payments")]
    assert _edges(component, lambda ref: ref in only_team) == [("ownedBy", "team:default/payments")]


def test_an_explicit_kind_is_taken_as_written_whatever_exists() -> None:
    product = Entity(
        "catalog/v1", "Product", {"name": "p"}, {"owner": "group:payments", "capabilities": ["x"]}
    )
    domains = {EntityRef.of("domain", "x")}
    assert _edges(product, lambda ref: ref in domains) == [
        ("ownedBy", "group:default/payments"),
        ("partOf", "domain:default/x"),
    ]


def test_refs_default_to_the_entity_namespace_and_duplicates_are_dropped() -> None:
    product = Entity(
        "catalog/v1",
        "Product",
        {"name": "p", "namespace": "shop"},
        {"dependsOn": ["a", "product:shop/a", "b"]},
    )
    assert derive_relations(product) == [
        Relation("dependsOn", EntityRef.of("product", "p", "shop"), EntityRef.of("product", "a", "shop")),
        Relation("dependsOn", EntityRef.of("product", "p", "shop"), EntityRef.of("product", "b", "shop")),
    ]


def test_every_derived_relation_has_a_known_inverse() -> None:
    for name in ("ours.yaml", "backstage.yaml"):
        for entity in _entities(name).values():
            for relation in derive_relations(entity):
                assert relation.inverse().inverse() == relation


def test_location_targets_are_the_relative_paths_only() -> None:
    many = Entity(
        "backstage.io/v1alpha1",
        "Location",
        {"name": "l"},
        {
            "target": "./a.yaml",
            "targets": ["b/c.yaml", "https://x.example/d.yaml", "/etc/passwd", "./a.yaml"],
        },
    )
    assert location_targets(many) == ["./a.yaml", "b/c.yaml"]
    assert location_targets(_entities("backstage.yaml")["location:default/one"]) == ["./other.yaml"]
    assert location_targets(Entity("catalog/v1", "Product", {"name": "p"}, {"target": "./a.yaml"})) == []
