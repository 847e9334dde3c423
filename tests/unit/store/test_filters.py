"""Backstage's filter, order, fields and full-text syntax: what parses, and what is refused."""

from __future__ import annotations

import pytest

from catalog_sync.errors import QueryError
from catalog_sync.store.filters import (
    MAX_CONDITIONS,
    MAX_FILTERS,
    Alternative,
    Condition,
    EntityFilter,
    FullText,
    OrderField,
    check_condition_count,
    filter_from_json,
    filter_to_json,
    parse_fields,
    parse_filters,
    parse_full_text,
    parse_order_fields,
)


def test_repeated_parameters_are_alternatives_and_commas_join_conditions() -> None:
    parsed = parse_filters(["kind=Component,spec.lifecycle=production", "kind=API"])
    assert parsed == EntityFilter(
        (
            Alternative((Condition("kind", ("component",)), Condition("spec.lifecycle", ("production",)))),
            Alternative((Condition("kind", ("api",)),)),
        )
    )


def test_the_same_key_twice_in_one_filter_means_any_of_the_values() -> None:
    parsed = parse_filters(["kind=api,spec.type=openapi,kind=Component"])
    assert parsed == EntityFilter(
        (Alternative((Condition("kind", ("api", "component")), Condition("spec.type", ("openapi",)))),)
    )


def test_bare_keys_test_existence_and_everything_is_trimmed_and_lower_cased() -> None:
    parsed = parse_filters([" Metadata.Tags , Spec.Owner = Team-A "])
    assert parsed == EntityFilter(
        (Alternative((Condition("metadata.tags"), Condition("spec.owner", ("team-a",)))),)
    )


def test_a_bare_key_beside_the_same_key_with_a_value_keeps_the_value() -> None:
    parsed = parse_filters(["kind,kind=api"])
    assert parsed == EntityFilter((Alternative((Condition("kind", ("api",)),)),))


def test_an_equals_sign_inside_the_value_and_an_empty_value_are_kept() -> None:
    parsed = parse_filters(["metadata.annotations.x=a=b", "spec.empty="])
    assert parsed is not None
    assert parsed.alternatives[0].conditions == (Condition("metadata.annotations.x", ("a=b",)),)
    assert parsed.alternatives[1].conditions == (Condition("spec.empty", ("",)),)


def test_empty_filters_filter_nothing() -> None:
    assert parse_filters([]) is None
    assert parse_filters(["", " , ,"]) is None


def test_relation_keys_are_recognised() -> None:
    parsed = parse_filters(["relations.ownedBy=group:default/Team-A"])
    assert parsed is not None
    condition = parsed.alternatives[0].conditions[0]
    assert condition == Condition("relations.ownedby", ("group:default/team-a",))
    assert condition.is_relation


@pytest.mark.parametrize(
    "text",
    [
        "=value",
        "kind=x,=y",
        "=",
        "kind=x\x00",
        "kind\n=x",
        "relations.=x",
        "k" * 201 + "=x",
        "kind=" + "v" * 201,
        ",".join(f"k{i}=v" for i in range(MAX_CONDITIONS + 1)),
    ],
)
def test_malformed_filters_are_refused_naming_the_parameter(text: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse_filters([text])
    assert raised.value.parameter == "filter"


def test_too_many_alternatives_are_refused() -> None:
    with pytest.raises(QueryError):
        parse_filters([f"kind=k{i}" for i in range(MAX_FILTERS + 1)])


def test_hostile_text_is_kept_as_a_plain_value() -> None:
    parsed = parse_filters(["kind=x' OR 1=1--"])
    assert parsed == EntityFilter((Alternative((Condition("kind", ("x' or 1=1--",)),)),))


def test_filters_survive_the_round_trip_through_json() -> None:
    parsed = parse_filters(["kind=a,kind=b,spec.x", "relations.ownedby=group:default/t"])
    assert filter_from_json(filter_to_json(parsed)) == parsed


@pytest.mark.parametrize(
    "data",
    ["x", [], [[]], [[["KIND", ["a"]]]], [[["kind", ["A"]]]], [[["kind", "a"]]], [[["", []]]], [[[1, []]]]],
)
def test_tampered_filter_json_is_refused(data: object) -> None:
    with pytest.raises(QueryError):
        filter_from_json(data)


def test_order_fields_default_to_ascending_and_refuse_other_directions() -> None:
    assert parse_order_fields(["metadata.name", "Spec.Owner,desc"]) == [
        OrderField("metadata.name", "asc"),
        OrderField("spec.owner", "desc"),
    ]
    with pytest.raises(QueryError):
        parse_order_fields(["metadata.name,up"])
    with pytest.raises(QueryError):
        parse_order_fields([",asc"])


def test_fields_are_split_on_commas_and_array_syntax_is_refused() -> None:
    assert parse_fields(["kind, metadata.name", "spec.owner"]) == ["kind", "metadata.name", "spec.owner"]
    assert parse_fields([""]) is None
    with pytest.raises(QueryError):
        parse_fields(["spec.kpis[0]"])


def test_full_text_is_trimmed_and_lower_cased_and_blank_means_none() -> None:
    assert parse_full_text("  Payments ") == FullText("payments")
    assert parse_full_text("pay", ["metadata.name,Metadata.Title"]) == FullText(
        "pay", ("metadata.name", "metadata.title")
    )
    assert parse_full_text("   ") is None
    assert parse_full_text(None) is None
    with pytest.raises(QueryError):
        parse_full_text("x" * 201)


def test_conditions_are_counted_over_every_filter_parameter_together() -> None:
    allowed = ["kind=component,spec.lifecycle=production", "kind=api,kind=system,spec.owner"]
    parsed = parse_filters(allowed, max_conditions=5)
    assert parsed is not None
    assert len(parsed.alternatives) == 2
    with pytest.raises(
        QueryError, match=r"at most 4 filter conditions .*api\.max_filter_conditions"
    ) as raised:
        parse_filters(allowed, max_conditions=4)
    assert raised.value.parameter == "filter"


def test_fifty_filters_of_fifty_conditions_exceed_the_default_limit() -> None:
    params = [",".join(f"spec.k{i}x{j}=v" for j in range(MAX_CONDITIONS)) for i in range(MAX_FILTERS)]
    with pytest.raises(QueryError, match="at most 200 filter conditions"):
        parse_filters(params, max_conditions=200)


def test_a_filter_read_back_from_a_cursor_obeys_the_same_limit() -> None:
    parsed = parse_filters([",".join(f"k{j}=v" for j in range(6))])
    check_condition_count(parsed, 6, "cursor")
    with pytest.raises(QueryError) as raised:
        check_condition_count(parsed, 5, "cursor")
    assert raised.value.parameter == "cursor"
