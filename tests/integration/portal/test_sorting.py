"""The ownership gaps and a scorecard's results sort on the server by any of their columns, through
links in the column headers, and their pages follow the order asked for.

Each order is checked against the API's own items, and a list walked page by page (two rows a page)
must read as the same list shown at once.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.integration.portal.html import Page, parse

BROWSER = {"Accept": "text/html"}


def page(client: FlaskClient, url: str, status: int = 200) -> Page:
    """A page as a browser asks for it."""
    response = client.get(url, headers=BROWSER)
    assert response.status_code == status, response.data[:2000]
    return parse(response.data)


def walked(client: FlaskClient, url: str) -> list[tuple[str | None, list[str]]]:
    """Every row of a paged table, following "Next page" from ``url`` (rows with a ``data-ref``)."""
    rows: list[tuple[str | None, list[str]]] = []
    while True:
        shown = page(client, url)
        rows += [(ref, row) for ref, row in zip(shown.row_refs, shown.rows, strict=True) if ref is not None]
        following = shown.hrefs("Next page")
        if not following:
            return rows
        url = following[0]


def api_items(client: FlaskClient, url: str) -> list[dict[str, Any]]:
    """Every item of an API list, in one page."""
    answer = client.get(url, headers={"Accept": "application/json"})
    assert answer.status_code == 200
    assert answer.json is not None
    items: list[dict[str, Any]] = answer.json["items"]
    return items


def gap_ref(item: dict[str, Any]) -> str:
    """What the gaps page's row of an API gap carries in ``data-ref``."""
    return str(item["entityRef"] or f"repository:{item['repository']['name']}")


@pytest.mark.parametrize(("column", "key"), [("owner", "owner"), ("tier", "tier"), ("type", "type")])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_the_gaps_sort_by_a_column_and_page_in_that_order(
    client: FlaskClient, column: str, key: str, order: str
) -> None:
    gaps = api_items(client, "/api/ownership/gaps?limit=500")
    subject = {gap_ref(item): item for item in gaps}
    shown = walked(client, f"/gaps?sort={column}&order={order}&limit=2")
    assert len(shown) == len(gaps) > 2
    values = [subject[str(ref)][key] or "" for ref, _ in shown]
    assert values == sorted(values, reverse=order == "desc")
    whole = [ref for ref, _ in walked(client, f"/gaps?sort={column}&order={order}&limit=500")]
    assert [ref for ref, _ in shown] == whole


def test_the_gaps_headers_are_links_that_sort_and_turn_the_order_around(client: FlaskClient) -> None:
    first = page(client, "/gaps?type=missing_owner")
    assert first.href("Owner").endswith("/gaps?type=missing_owner&sort=owner&order=asc")
    assert first.href("Type ▲") == "/gaps?type=missing_owner&sort=type&order=desc"
    by_owner = page(client, "/gaps?sort=owner&order=asc")
    assert by_owner.href("Owner ▲") == "/gaps?sort=owner&order=desc"
    assert ("th", {"scope": "col", "aria-sort": "ascending"}) in by_owner.elements


def test_a_gaps_cursor_of_another_order_is_refused(client: FlaskClient) -> None:
    cursor = page(client, "/gaps?sort=tier&limit=2").href("Next page").split("cursor=")[1]
    refused = page(client, f"/gaps?sort=owner&limit=2&cursor={cursor}", status=400)
    assert "this cursor belongs to the list in another order" in refused.text
    assert "sort: 'nothing' is not a column to sort by" in page(client, "/gaps?sort=nothing", status=400).text


@pytest.mark.parametrize(("column", "key"), [("score", "score"), ("owner", "owner"), ("entity", "entityRef")])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_a_scorecards_results_sort_by_a_column_and_page_in_that_order(
    client: FlaskClient, column: str, key: str, order: str
) -> None:
    results = {
        item["entityRef"]: item
        for item in api_items(client, "/api/scorecards/product-readiness/results?limit=500")
    }
    shown = walked(client, f"/scorecards/product-readiness?sort={column}&order={order}&limit=2")
    assert len(shown) == len(results) > 2
    values = [results[str(ref)][key] or "" for ref, _ in shown]
    assert values == sorted(values, reverse=order == "desc")
    whole = walked(client, f"/scorecards/product-readiness?sort={column}&order={order}&limit=500")
    assert [ref for ref, _ in shown] == [ref for ref, _ in whole]


def test_a_scorecards_results_sort_by_level_from_the_lowest_up(client: FlaskClient) -> None:
    levels = ["none", "bronze", "silver", "gold"]
    rising = [row[2].lower() for _, row in walked(client, "/scorecards/product-readiness?sort=level&limit=3")]
    assert [levels.index(level) for level in rising] == sorted(levels.index(level) for level in rising)
    assert len(set(rising)) > 1
    falling = [
        row[2].lower() for _, row in walked(client, "/scorecards/product-readiness?sort=level&order=desc")
    ]
    assert falling[0] == max(rising, key=levels.index)
    assert sorted(falling) == sorted(rising)
