"""Loading YAML: positions of every value, YAML 1.2 scalars, documents, anchors and merges."""

from __future__ import annotations

import pytest

from catalog_sync.descriptors.loader import LoadedDocument, LoadLimits, format_path, load_documents, locate
from catalog_sync.errors import DescriptorError, UnsafeInputError


def _one(text: str, *, pure: bool = False) -> LoadedDocument:
    documents = load_documents(text.encode(), LoadLimits(), pure=pure)
    assert len(documents) == 1
    return documents[0]


@pytest.mark.parametrize("pure", [False, True], ids=["libyaml", "pure"])
def test_every_value_and_key_keeps_its_line_and_column(pure: bool) -> None:
    text = (
        "apiVersion: catalog/v1\n"
        "kind: Product\n"
        "spec:\n"
        "  kpis:\n"
        "    - name: a\n"
        "      category: speed\n"
        "    - {name: b, category: other}\n"
        "  tags: [x,\n"
        "         y]\n"
    )
    document = load_documents(text.encode(), LoadLimits(), pure=pure)[0]
    assert locate(document.where, ("kind",)) == ((2, 7), (2, 1))
    assert locate(document.where, ("spec", "kpis", 0, "category")) == ((6, 17), (6, 7))
    assert locate(document.where, ("spec", "kpis", 1, "category")) == ((7, 27), (7, 17))
    assert locate(document.where, ("spec", "tags", 1)) == ((9, 10), None)
    # A path that goes further than the document stops at the deepest value that exists.
    assert locate(document.where, ("spec", "kpis", 5, "name"))[0] == (5, 5)


def test_documents_keep_their_index_and_empty_ones_are_skipped() -> None:
    text = "---\n---\nkind: Team\n---\n\n---\nkind: User\n...\n---\n"
    documents = load_documents(text.encode(), LoadLimits())
    assert [(d.index, d.mark, d.value) for d in documents] == [
        (1, (3, 1), {"kind": "Team"}),
        (3, (7, 1), {"kind": "User"}),
    ]


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("on", "on"),
        ("yes", "yes"),
        ("No", "No"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("12", 12),
        ("-3", -3),
        ("007", 7),
        ("0o17", 15),
        ("0x1F", 31),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("1:20", "1:20"),
        ("2024-01-01", "2024-01-01"),
        ("1_000", "1_000"),
        (".inf", ".inf"),
        (".nan", ".nan"),
        ("1e400", "1e400"),
        ("9" * 5000, "9" * 5000),
        ("'12'", "12"),
        ('"true"', "true"),
        ("!!str 12", "12"),
        ("!!int '12'", 12),
        ("!!float 3", 3.0),
        ("!!bool 'true'", True),
        ("!!null ''", None),
        ("! 12", "12"),
        ("!!timestamp 2024-01-01", "2024-01-01"),
    ],
)
def test_scalars_are_read_as_yaml_1_2_core_schema(written: str, value: object) -> None:
    document = _one(f"v: {written}\n")
    assert document.value == {"v": value}
    assert type(document.value["v"]) is type(value)


def test_keys_are_kept_as_written_text() -> None:
    document = _one("1: a\ntrue: b\non: c\n")
    assert document.value == {"1": "a", "true": "b", "on": "c"}


def test_aliases_copy_so_no_two_places_share_one_object() -> None:
    document = _one("a: &x {k: [1, 2]}\nb: *x\nc: *x\n")
    assert document.value["a"] == document.value["b"] == {"k": [1, 2]}
    document.value["b"]["k"].append(3)
    assert document.value["a"] == {"k": [1, 2]}
    assert document.value["c"] == {"k": [1, 2]}


def test_anchors_do_not_cross_documents() -> None:
    with pytest.raises(DescriptorError, match=r"alias \*x refers to no anchor"):
        load_documents(b"a: &x 1\n---\nb: *x\n", LoadLimits())


def test_merge_keys_fill_in_keys_not_written_explicitly() -> None:
    text = "base: &b {type: service, lifecycle: production}\nx:\n  <<: *b\n  lifecycle: deprecated\n"
    document = _one(text)
    assert document.value["x"] == {"lifecycle": "deprecated", "type": "service"}
    # a merged key points at where it was written
    assert locate(document.where, ("x", "type"))[0] == (1, 17)


def test_merge_of_several_mappings_prefers_the_first() -> None:
    document = _one("a: &a {k: 1}\nb: &b {k: 2, j: 3}\nc:\n  <<: [*a, *b]\n")
    assert document.value["c"] == {"k": 1, "j": 3}


def test_merge_of_a_scalar_is_a_document_problem() -> None:
    document = _one("c:\n  <<: 3\n  k: 1\n")
    assert document.problems == [("a merge (<<) takes a mapping or a list of mappings", (2, 7), "c.<<")]


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    assert _one("'<<': 1\n").value == {"<<": 1}


def test_duplicate_keys_and_bad_tags_are_document_problems_with_their_field() -> None:
    document = _one("spec:\n  members:\n    - {name: a, name: b}\n  x: !custom 1\n")
    assert document.problems == [
        ("duplicate key 'name' (first at line 3)", (3, 17), "spec.members[0].name"),
        ("unsupported YAML tag !custom; only !!str, !!int, !!float, !!bool, !!null", (4, 6), "spec.x"),
    ]
    assert document.value["spec"]["members"][0] == {"name": "a"}


def test_a_utf8_byte_order_mark_is_ignored() -> None:
    assert load_documents("\ufeffkind: Team\n".encode(), LoadLimits())[0].value == {"kind": "Team"}


def test_pure_reader_reports_control_characters_where_libyaml_does() -> None:
    data = "kind: Tëam\nspec: é\x07\n".encode()
    marks = []
    for pure in (False, True):
        with pytest.raises(DescriptorError) as caught:
            load_documents(data, LoadLimits(), pure=pure)
        marks.append((caught.value.line, caught.value.column))
    assert marks == [(2, 8), (2, 8)]


def test_depth_limit_counts_values_copied_by_aliases() -> None:
    text = "a: &a [[[[1]]]]\nb: [[[*a]]]\n"
    assert load_documents(text.encode(), LoadLimits(max_depth=8))
    with pytest.raises(DescriptorError, match="nesting deeper than 7 levels"):
        load_documents(text.encode(), LoadLimits(max_depth=7))


def test_many_documents_are_each_bounded_not_the_file_as_a_whole() -> None:
    text = "".join(f"---\nname: n{i}\nitems: [1, 2, 3, 4, 5, 6, 7, 8]\n" for i in range(500))
    assert len(load_documents(text.encode(), LoadLimits(max_nodes=100))) == 500


def test_field_paths_use_dots_and_brackets() -> None:
    assert format_path(("spec", "kpis", 1, "category")) == "spec.kpis[1].category"
    assert format_path((0, "a")) == "[0].a"
    assert format_path(()) == ""


def test_hostile_input_is_told_apart_from_merely_broken_yaml() -> None:
    with pytest.raises(UnsafeInputError, match="nesting deeper"):
        load_documents(b"a: " + b"[" * 100, LoadLimits())
    with pytest.raises(UnsafeInputError, match="larger than"):
        load_documents(b"a: b\n", LoadLimits(max_file_bytes=4))
    with pytest.raises(DescriptorError, match="malformed YAML") as caught:
        load_documents(b"a: [b\n", LoadLimits())
    assert not isinstance(caught.value, UnsafeInputError)
