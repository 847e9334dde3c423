"""The read side answers Backstage's catalog questions the same way on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from catalog_sync.errors import QueryError
from catalog_sync.store.filters import FullText, parse_filters
from tests.unit.store.conftest import Catalog


def _refs(catalog: Catalog, *filters: str, full_text: FullText | None = None) -> set[str]:
    page = catalog.reader.query_entities(parse_filters(filters), limit=100, full_text=full_text)
    assert page.total_items == len(page.items)
    return {
        f"{item['kind'].lower()}:{item['metadata'].get('namespace', 'default')}/{item['metadata']['name']}"
        for item in page.items
    }


def test_commas_and_conditions_and_repeated_filters_or_them(catalog: Catalog) -> None:
    assert _refs(catalog, "kind=component,spec.lifecycle=production") == {
        "component:default/payments-api",
        "component:default/web-shop",
    }
    assert _refs(catalog, "kind=api", "kind=product") == {"api:default/payments", "product:default/checkout"}


def test_matching_is_case_insensitive_on_keys_and_values(catalog: Catalog) -> None:
    assert _refs(catalog, "KIND=COMPONENT,Spec.Owner=TEAM-A") == {
        "component:default/payments-api",
        "component:default/web-shop",
    }
    # The descriptor wrote "Team-B"; any spelling finds it.
    assert _refs(catalog, "spec.owner=team-b,kind=product") == {"product:default/checkout"}


def test_the_same_key_twice_means_any_of_its_values(catalog: Catalog) -> None:
    assert _refs(catalog, "kind=api,kind=product,spec.lifecycle=production") == {
        "api:default/payments",
        "product:default/checkout",
    }


def test_a_bare_key_matches_entities_that_have_it(catalog: Catalog) -> None:
    assert _refs(catalog, "kind=component,spec.owner") == {
        "component:default/payments-api",
        "component:default/ledger",
        "component:default/web-shop",
    }


def test_array_values_match_one_by_one_and_the_true_rows_require_all(catalog: Catalog) -> None:
    assert _refs(catalog, "metadata.tags=java") == {
        "component:default/payments-api",
        "component:default/ledger",
    }
    assert _refs(catalog, "metadata.tags.java,metadata.tags.pci") == {"component:default/payments-api"}
    assert _refs(catalog, "metadata.tags=frontend") == {
        "component:default/web-shop",
        "product:default/checkout",
    }


def test_relation_filters_read_the_relations_table(catalog: Catalog) -> None:
    assert _refs(catalog, "relations.ownedBy=group:default/team-a") == {
        "component:default/payments-api",
        "component:default/web-shop",
        "api:default/payments",
    }
    assert _refs(catalog, "relations.OWNEDBY=Group:Default/Team-A,kind=api") == {"api:default/payments"}
    assert _refs(catalog, "relations.dependsOn") == {"component:default/payments-api"}
    assert _refs(catalog, "relations.ownerof=component:default/ledger", "kind=api") == {
        "group:default/team-b",
        "api:default/payments",
    }


def test_a_page_can_carry_only_the_relations_it_shows(catalog: Catalog) -> None:
    def relations(types: tuple[str, ...] | None) -> set[tuple[str, str, str]]:
        page = catalog.reader.query_entities(None, limit=100, relation_types=types)
        rows = [(item["metadata"]["name"], item["relations"]) for item in page.items]
        return {(name, r["type"], r["targetRef"]) for name, found in rows for r in found}

    every = relations(None)
    owned = relations(("ownedBy",))
    assert {kind for _, kind, _ in every} - {"ownedBy"}, "the catalog has other relations too"
    assert owned == {row for row in every if row[1] == "ownedBy"} != set()


@pytest.mark.parametrize(
    "hostile",
    [
        "kind=x' OR 1=1--",
        "kind=component' OR '1'='1",
        "kind=%",
        "kind=_omponent",
        "kind=component'); DROP TABLE entities;--",
        "kind' OR 1=1--=component",
        "relations.ownedby' OR 1=1--=x",
    ],
)
def test_injection_attempts_match_nothing_and_harm_nothing(catalog: Catalog, hostile: str) -> None:
    assert _refs(catalog, hostile) == set()
    assert "entities" in inspect(catalog.engine).get_table_names()
    assert catalog.reader.count_entities() == len(catalog.ids)


def test_full_text_matches_name_title_and_description_case_insensitively(catalog: Catalog) -> None:
    assert _refs(catalog, full_text=FullText("PAYMENTS")) == {
        "component:default/payments-api",
        "component:other/payments-api",
        "api:default/payments",
    }
    assert _refs(catalog, "kind=component,metadata.namespace=default", full_text=FullText("card")) == {
        "component:default/payments-api"
    }


def test_full_text_wildcards_are_literal(catalog: Catalog) -> None:
    assert _refs(catalog, full_text=FullText("100%")) == {"product:default/checkout"}
    assert _refs(catalog, full_text=FullText("r_s")) == {"product:default/checkout"}
    assert _refs(catalog, full_text=FullText("%")) == {"product:default/checkout"}


def test_full_text_can_be_restricted_to_some_keys(catalog: Catalog) -> None:
    assert _refs(catalog, full_text=FullText("team-", ("spec.owner",))) == {
        "component:default/payments-api",
        "component:default/ledger",
        "component:default/web-shop",
        "api:default/payments",
        "product:default/checkout",
    }
    assert _refs(catalog, full_text=FullText("ledger", ("metadata.title",))) == {"component:default/ledger"}


def test_by_ref_is_case_insensitive_and_carries_relations_and_problems(catalog: Catalog) -> None:
    entity = catalog.reader.get_by_ref("Component:Default/Payments-API")
    assert entity is not None
    assert entity.id == catalog.ids["component:default/payments-api"]
    assert entity.body["metadata"]["title"] == "Payments API"
    assert entity.relations == [
        ("dependsOn", "component:default/ledger"),
        ("ownedBy", "group:default/team-a"),
    ]
    assert [problem.message for problem in entity.problems] == ["spec.tier: must be between 1 and 4"]
    assert catalog.reader.get_by_ref("component:default/nothing") is None


def test_by_uid_finds_the_same_entity_and_its_backstage_form(catalog: Catalog) -> None:
    by_ref = catalog.reader.get_by_ref("component:default/payments-api")
    assert by_ref is not None
    by_uid = catalog.reader.get_by_uid(by_ref.uid)
    assert by_uid is not None
    assert by_uid.ref_key == "component:default/payments-api"
    served = by_uid.to_entity_dict()
    assert served["metadata"]["uid"] == by_ref.uid
    assert served["metadata"]["etag"] == by_ref.etag
    assert {"type": "ownedBy", "targetRef": "group:default/team-a"} in served["relations"]
    assert served["status"]["items"][0]["level"] == "error"
    assert catalog.reader.get_by_uid("no-such-uid") is None


def test_by_refs_keeps_the_order_and_answers_none_for_unknown_refs(catalog: Catalog) -> None:
    found = catalog.reader.get_by_refs(
        [
            "group:default/team-b",
            "component:default/ghost",
            "COMPONENT:default/ledger",
            "group:default/team-b",
        ]
    )
    assert [entity.ref_key if entity else None for entity in found] == [
        "group:default/team-b",
        None,
        "component:default/ledger",
        "group:default/team-b",
    ]
    assert catalog.reader.get_by_refs([]) == []


def test_the_legacy_list_orders_by_ref_and_pages_by_offset(catalog: Catalog) -> None:
    everything = catalog.reader.list_entities(fields=["kind", "metadata.name", "metadata.namespace"])
    refs = [
        f"{e['kind'].lower()}:{e['metadata'].get('namespace', 'default')}/{e['metadata']['name']}"
        for e in everything
    ]
    assert refs == sorted(catalog.ids)
    filtered = catalog.reader.list_entities(parse_filters(["kind=component"]), limit=2, offset=1)
    assert [e["metadata"]["name"] for e in filtered] == ["payments-api", "web-shop"]
    with pytest.raises(QueryError):
        catalog.reader.list_entities(limit=-1)


def test_counts_follow_the_filter(catalog: Catalog) -> None:
    assert catalog.reader.count_entities() == len(catalog.ids)
    assert catalog.reader.count_entities(parse_filters(["kind=group"])) == 2
    assert catalog.reader.count_entities(parse_filters(["metadata.tags=java,metadata.tags=pci"])) == 2


def test_fields_keep_only_what_was_asked_including_relations(catalog: Catalog) -> None:
    page = catalog.reader.query_entities(
        parse_filters(["kind=api"]), fields=["metadata.name", "relations", "spec.nothing"]
    )
    assert page.items == [
        {
            "metadata": {"name": "payments"},
            "relations": [{"type": "ownedBy", "targetRef": "group:default/team-a"}],
        }
    ]


def test_full_text_with_text_looks_in_the_keys_and_in_name_title_and_description(catalog: Catalog) -> None:
    search = FullText("pci", ("metadata.tags",), with_text=True)
    assert _refs(catalog, full_text=search) == {"component:default/payments-api"}  # by its tag alone
    by_name = FullText("ledger", ("metadata.tags",), with_text=True)
    assert "component:default/ledger" in _refs(catalog, full_text=by_name)  # by its name alone
    assert _refs(catalog, full_text=FullText("pci", ("metadata.tags",))) == {"component:default/payments-api"}
    assert _refs(catalog, full_text=FullText("pci")) == set()  # not in a name, title or description


def test_a_full_text_key_ending_in_a_dot_matches_every_key_it_begins(catalog: Catalog) -> None:
    assert _refs(catalog, "kind=group", full_text=FullText("team", ("spec.",))) == {
        "group:default/team-a",
        "group:default/team-b",
    }
    assert _refs(catalog, full_text=FullText("team-b", ("spec.o",))) == set()  # a prefix is a whole key part


def test_a_wider_full_text_survives_the_cursor(catalog: Catalog) -> None:
    search = FullText("a", ("metadata.tags",), with_text=True)
    everything = _refs(catalog, full_text=search)
    first = catalog.reader.query_entities(None, limit=2, full_text=search)
    seen = [item["metadata"]["name"] for item in first.items]
    cursor = first.next_cursor
    while cursor:
        page = catalog.reader.query_entities(None, limit=2, full_text=None, cursor=cursor)
        seen += [item["metadata"]["name"] for item in page.items]
        cursor = page.next_cursor
    assert len(seen) == len(everything) == first.total_items
