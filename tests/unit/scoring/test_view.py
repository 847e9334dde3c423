"""The view scoring reads through: what it asks to load, and which reads become dependencies."""

from __future__ import annotations

import pytest

from catalog_sync.descriptors import derive_relations
from catalog_sync.model import KINDS, RELATION_PAIRS, Entity
from catalog_sync.scoring.view import SELF_WRITTEN, CatalogView, Meta, Missing, Reads


def meta(key: str, entity_id: int) -> Meta:
    return Meta(entity_id, key, key.partition(":")[0], "e", False, None, None, None)


def test_asking_for_what_is_not_loaded_names_all_of_it_at_once() -> None:
    view = CatalogView()
    view.add_meta(meta("team:default/a", 1))
    view.mark_absent(["team:default/gone"])
    view.require(metas=["team:default/a", "team:default/gone"])
    with pytest.raises(Missing) as raised:
        view.require(metas=["team:default/a", "team:default/b"], edges=[("team:default/a", "hasMember")])
    assert raised.value.need.metas == {"team:default/b"}
    assert raised.value.need.edges == {("team:default/a", "hasMember")}


def test_reading_a_list_depends_on_the_entities_that_wrote_rows_into_it() -> None:
    view = CatalogView()
    view.add_meta(meta("group:default/web", 1))
    rows = [
        ("group:default/web", "hasMember", "user:default/listed", 1),  # from the group's own spec
        ("group:default/web", "hasMember", "user:default/joined", 9),  # from the user's memberOf
    ]
    view.add_edges([("group:default/web", "hasMember")], rows)
    reads = Reads()
    assert len(view.edges_of("group:default/web", "hasMember", reads)) == 2
    assert reads.items == {("group:default/web", "hasMember"), ("user:default/joined", "")}


def test_self_written_lists_depend_on_their_entity_alone() -> None:
    view = CatalogView()
    view.add_meta(meta("product:default/p", 1))
    view.add_edges(
        [("product:default/p", "ownedBy")], [("product:default/p", "ownedBy", "team:default/t", 1)]
    )
    reads = Reads()
    view.edges_of("product:default/p", "ownedBy", reads)
    assert reads.items == {("product:default/p", "")}


def test_no_spec_field_derives_the_inverse_of_a_self_written_type() -> None:
    """Keeps SELF_WRITTEN true: no kind's fields produce ownerOf or hasPart as a forward relation."""
    inverses = {RELATION_PAIRS[t] for t in SELF_WRITTEN}
    fields = ["owner", "capabilities", "dependsOn", "dependencyOf", "parent", "system", "subcomponentOf"]
    fields += ["providesApis", "consumesApis", "domain", "subdomainOf", "children", "members", "memberOf"]
    every_field = {field: ["x"] for field in fields}
    for info in KINDS.values():
        entity = Entity("catalog/v1", info.name, {"name": "e", "namespace": "default"}, dict(every_field))
        assert not {relation.type for relation in derive_relations(entity)} & inverses, info.name
