"""By-query paging: cursors carry the query, pages never skip or repeat, and going back works."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import Engine

from catalog_sync.errors import QueryError
from catalog_sync.store import sqlfilters
from catalog_sync.store.filters import FullText, OrderField, parse_filters
from catalog_sync.store.queries import CatalogReader, Page
from tests.unit.store.helpers import entity_body, insert_entity

LIFECYCLES = [
    "production",
    "experimental",
    None,
    "production",
    "deprecated",
    "production",
    None,
    "experimental",
]


@pytest.fixture(params=["collect", "walk"])
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run ordering tests both ways a page can be found: collecting matches, or walking an index."""
    if request.param == "walk":
        # Any condition matching more than one entity counts as broad, so ordered pages walk.
        monkeypatch.setattr(sqlfilters, "ESTIMATE_CAP", 1)
    return str(request.param)


@pytest.fixture(scope="module")
def reader(module_engine: Engine) -> CatalogReader:
    """Twenty components over three owners, with many equal lifecycles and some missing ones."""
    with module_engine.begin() as connection:
        for index in range(20):
            spec: dict[str, Any] = {"type": "service", "owner": f"team-{index % 3}"}
            lifecycle = LIFECYCLES[index % len(LIFECYCLES)]
            if lifecycle is not None:
                spec["lifecycle"] = lifecycle
            insert_entity(connection, entity_body("Component", f"svc-{index:02d}", spec=spec))
        insert_entity(connection, entity_body("Group", "team-0"))
    return CatalogReader(module_engine)


def _names(page: Page) -> list[str]:
    return [item["metadata"]["name"] for item in page.items]


def _all_names(pages: list[Page]) -> list[str]:
    return [name for page in pages for name in _names(page)]


def _walk_forward(reader: CatalogReader, first: Page, limit: int) -> list[Page]:
    pages = [first]
    while pages[-1].next_cursor:
        pages.append(reader.query_entities(cursor=pages[-1].next_cursor, limit=limit))
        assert len(pages) < 50
    return pages


def _expected_order(reader: CatalogReader, key: str, direction: str) -> list[str]:
    """Backstage's order: by value, missing values last, ties by id, all in the asked direction."""
    entities = [e for e in reader.get_by_refs([f"component:default/svc-{i:02d}" for i in range(20)]) if e]
    values = sorted(
        {e.body["spec"][key] for e in entities if key in e.body["spec"]}, reverse=direction == "desc"
    )
    rank = {value: index for index, value in enumerate(values)}
    sign = 1 if direction == "asc" else -1
    entities.sort(key=lambda e: (rank.get(e.body["spec"].get(key), len(values)), sign * e.id))
    return [e.body["metadata"]["name"] for e in entities]


def test_pages_by_entity_id_by_default_and_reach_the_end(reader: CatalogReader) -> None:
    first = reader.query_entities(parse_filters(["kind=component"]), limit=6)
    assert first.total_items == 20
    assert first.prev_cursor is None
    pages = _walk_forward(reader, first, 6)
    assert [len(page.items) for page in pages] == [6, 6, 6, 2]
    assert _all_names(pages) == [f"svc-{i:02d}" for i in range(20)]
    assert all(page.total_items == 20 for page in pages)
    assert pages[-1].next_cursor is None


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_ties_and_missing_values_never_skip_or_repeat_an_entity(
    reader: CatalogReader, direction: str
) -> None:
    order = [OrderField("spec.lifecycle", direction)]  # type: ignore[arg-type]
    first = reader.query_entities(parse_filters(["kind=component"]), order=order, limit=3)
    pages = _walk_forward(reader, first, 3)
    walked = _all_names(pages)
    assert walked == _expected_order(reader, "lifecycle", direction)
    assert len(set(walked)) == 20


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_previous_cursors_walk_back_to_the_first_page(
    reader: CatalogReader, direction: str, strategy: str
) -> None:
    order = [OrderField("spec.lifecycle", direction)]  # type: ignore[arg-type]
    first = reader.query_entities(parse_filters(["kind=component"]), order=order, limit=3)
    pages = _walk_forward(reader, first, 3)
    back = [pages[-1]]
    while back[-1].prev_cursor:
        back.append(reader.query_entities(cursor=back[-1].prev_cursor, limit=3))
        assert len(back) < 50
    assert [_names(page) for page in reversed(back)] == [_names(page) for page in pages]
    assert back[-1].prev_cursor is None
    # Going back, every page still offers the way forward again.
    assert all(page.next_cursor for page in back[1:])


def test_a_cursor_alone_replays_the_query_it_came_from(reader: CatalogReader, strategy: str) -> None:
    first = reader.query_entities(
        parse_filters(["spec.owner=team-1"]), order=[OrderField("metadata.name", "desc")], limit=2
    )
    assert first.next_cursor is not None
    second = reader.query_entities(parse_filters(["kind=group"]), cursor=first.next_cursor, limit=2)
    assert first.total_items == 7
    assert _names(first) == ["svc-19", "svc-16"]
    assert _names(second) == ["svc-13", "svc-10"]


def test_without_a_filter_every_entity_is_ordered_and_missing_values_come_last(reader: CatalogReader) -> None:
    first = reader.query_entities(order=[OrderField("spec.type", "desc")], limit=7)
    pages = _walk_forward(reader, first, 7)
    walked = _all_names(pages)
    assert first.total_items == 21
    # Every component has spec.type "service"; the group has none, so it comes last.
    assert walked == [f"svc-{i:02d}" for i in reversed(range(20))] + ["team-0"]


def test_several_order_fields_break_ties_in_turn(reader: CatalogReader) -> None:
    order = [OrderField("spec.owner"), OrderField("metadata.name", "desc")]
    first = reader.query_entities(parse_filters(["kind=component"]), order=order, limit=5)
    walked = _all_names(_walk_forward(reader, first, 5))
    expected = sorted(
        (f"svc-{i:02d}" for i in range(20)), key=lambda name: (int(name[4:]) % 3, -int(name[4:]))
    )
    assert walked == expected


def test_the_total_is_counted_even_for_an_empty_page(reader: CatalogReader) -> None:
    page = reader.query_entities(parse_filters(["kind=component"]), limit=0)
    assert page.items == []
    assert page.total_items == 20
    assert page.next_cursor is None
    nothing = reader.query_entities(parse_filters(["kind=nothing"]), limit=5)
    assert nothing.items == []
    assert nothing.total_items == 0
    assert nothing.next_cursor is None


COMPONENTS = [f"svc-{i:02d}" for i in range(20)]


@pytest.mark.parametrize(
    ("filters", "full_text", "expected"),
    [
        (["spec.owner=team-1"], None, [n for i, n in enumerate(COMPONENTS) if i % 3 == 1]),
        (["spec.owner=team-1,spec.owner=team-2"], None, [n for i, n in enumerate(COMPONENTS) if i % 3]),
        (["spec.owner=team-1", "kind=group"], None, [*COMPONENTS[1::3], "team-0"]),
        (["relations.ownedBy=group:default/team-0"], None, []),
        (["spec.lifecycle"], None, [n for i, n in enumerate(COMPONENTS) if LIFECYCLES[i % 8]]),
        (
            ["kind=component,spec.lifecycle=production"],
            None,
            [n for i, n in enumerate(COMPONENTS) if LIFECYCLES[i % 8] == "production"],
        ),
        (
            ["kind=component,spec.owner=team-1,spec.owner=team-2,spec.lifecycle"],
            None,
            [n for i, n in enumerate(COMPONENTS) if i % 3 and LIFECYCLES[i % 8]],
        ),
        ([], FullText("svc-1"), COMPONENTS[10:]),
        ([], None, [*COMPONENTS, "team-0"]),
        (["kind=nothing"], None, []),
    ],
)
def test_a_first_page_counts_every_match_whatever_the_filter(
    reader: CatalogReader, strategy: str, filters: list[str], full_text: FullText | None, expected: list[str]
) -> None:
    first = reader.query_entities(parse_filters(filters), full_text=full_text, limit=4)
    walked = _all_names(_walk_forward(reader, first, 4))
    assert first.total_items == len(expected)
    assert sorted(walked) == sorted(expected)


def test_a_negative_limit_is_refused(reader: CatalogReader) -> None:
    with pytest.raises(QueryError) as raised:
        reader.query_entities(limit=-1)
    assert raised.value.parameter == "limit"


def _tampered(cursor: str, change: dict[str, Any]) -> str:
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    data.update(change)
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


@pytest.mark.parametrize(
    "make_bad",
    [
        lambda good: "not a cursor!",
        lambda good: good[:-5],
        lambda good: base64.urlsafe_b64encode(b"[1, 2]").decode(),
        lambda good: _tampered(good, {"v": 99}),
        lambda good: _tampered(good, {"p": ["x' OR 1=1--"]}),
        lambda good: _tampered(good, {"p": [None, True]}),
        lambda good: _tampered(good, {"n": -1}),
        lambda good: _tampered(good, {"o": [["metadata.name", "sideways"]]}),
        lambda good: _tampered(good, {"f": [[["kind", ["A\u0000"]]]]}),
        lambda good: _tampered(good, {"extra": 1}),
    ],
)
def test_garbage_or_tampered_cursors_are_refused(reader: CatalogReader, make_bad: Any) -> None:
    good = reader.query_entities(
        parse_filters(["kind=component"]), order=[OrderField("metadata.name")], limit=2
    )
    assert good.next_cursor is not None
    with pytest.raises(QueryError) as raised:
        reader.query_entities(cursor=make_bad(good.next_cursor), limit=2)
    assert raised.value.parameter == "cursor"
