"""Facets count entities per value, among the entities a filter keeps."""

from __future__ import annotations

import pytest

from catalog_sync.errors import QueryError
from catalog_sync.store.facets import FacetCache
from catalog_sync.store.filters import parse_filters
from catalog_sync.store.queries import CatalogReader
from tests.unit.store.conftest import Catalog
from tests.unit.store.helpers import entity_body, insert_entity


def test_facets_count_entities_per_value_highest_first(catalog: Catalog) -> None:
    facets = catalog.reader.facets(["kind", "spec.lifecycle"])
    assert facets["kind"] == [("Component", 4), ("Group", 2), ("API", 1), ("Product", 1)]
    assert facets["spec.lifecycle"] == [
        ("production", 4),
        ("deprecated", 1),
        ("experimental", 1),
    ]


def test_facets_follow_the_filter(catalog: Catalog) -> None:
    facets = catalog.reader.facets(["metadata.tags"], parse_filters(["kind=component"]))
    assert facets == {"metadata.tags": [("java", 2), ("Frontend", 1), ("pci", 1)]}
    assert catalog.reader.facets(["spec.type"], parse_filters(["kind=nothing"])) == {"spec.type": []}


def test_values_differing_only_in_case_are_one_facet_value(catalog: Catalog) -> None:
    # "Frontend" (web-shop) and "frontend" (checkout) filter to the same two entities.
    tags = dict(catalog.reader.facets(["metadata.tags"])["metadata.tags"])
    assert sum(count for value, count in tags.items() if value.lower() == "frontend") == 2
    assert len([value for value in tags if value.lower() == "frontend"]) == 1


def test_facet_keys_are_answered_under_the_spelling_asked(catalog: Catalog) -> None:
    facets = catalog.reader.facets(["Spec.Owner", "metadata.unknown"], parse_filters(["kind=component"]))
    assert facets == {"Spec.Owner": [("team-a", 2), ("team-b", 1)], "metadata.unknown": []}


def test_relation_facets_count_the_targets(catalog: Catalog) -> None:
    facets = catalog.reader.facets(["relations.ownedBy"])
    assert facets["relations.ownedBy"] == [("group:default/team-a", 3), ("group:default/team-b", 2)]
    filtered = catalog.reader.facets(["relations.ownedBy"], parse_filters(["kind=api"]))
    assert filtered["relations.ownedBy"] == [("group:default/team-a", 1)]


@pytest.mark.parametrize("keys", [[""], ["x\x00"], ["relations."], ["k" * 201], [f"k{i}" for i in range(51)]])
def test_malformed_facets_are_refused(catalog: Catalog, keys: list[str]) -> None:
    with pytest.raises(QueryError) as raised:
        catalog.reader.facets(keys)
    assert raised.value.parameter == "facet"


def test_a_facet_cache_reuses_answers_until_they_expire() -> None:
    now = [100.0]
    computed: list[int] = []

    def compute() -> dict[str, list[tuple[str, int]]]:
        computed.append(1)
        return {"kind": [("Component", len(computed))]}

    cache = FacetCache(5.0, clock=lambda: now[0])
    assert cache.get_or_compute("k", compute) == {"kind": [("Component", 1)]}
    now[0] += 4.9
    assert cache.get_or_compute("k", compute) == {"kind": [("Component", 1)]}
    assert cache.get_or_compute("other", compute) == {"kind": [("Component", 2)]}
    now[0] += 0.2
    assert cache.get_or_compute("k", compute) == {"kind": [("Component", 3)]}


def test_the_reader_serves_cached_facets_only_when_asked_to(fresh_catalog: Catalog) -> None:
    cached = CatalogReader(fresh_catalog.engine, facet_cache_seconds=60)
    uncached = CatalogReader(fresh_catalog.engine)
    before = cached.facets(["kind"])
    insert_entity(fresh_catalog.engine, entity_body("Group", "team-c"))
    assert cached.facets(["kind"]) == before
    assert ("Group", 3) in uncached.facets(["kind"])["kind"]
