"""The catalog's search box looks where people expect (tags, labels, members, capabilities, outcomes,
besides names, titles and descriptions) through the catalog's own index, and owners are picked by name."""

from __future__ import annotations

import re

import pytest
import requests

from tests.integration.portal.html import Page, parse

BROWSER = {"Accept": "text/html"}


def found(base: str, query: str) -> set[str]:
    """The refs the catalog page lists for ``query``, every page followed."""
    url = f"/catalog?limit=5&{query}"
    refs: set[str] = set()
    while url:
        response = requests.get(base + url, headers=BROWSER, timeout=30)
        assert response.status_code == 200, response.text[:1000]
        page: Page = parse(response.text)
        refs |= set(page.rows_by_ref())
        url = page.hrefs("Next page")[0] if page.hrefs("Next page") else ""
    return refs


def test_a_tag_finds_what_is_tagged_so(base: str) -> None:
    assert {
        "product:default/payments-gateway",
        "capability:default/payments",
        "team:default/payments-team",
    } <= found(base, "q=pci")


def test_a_label_value_finds_its_entity(base: str) -> None:
    assert found(base, "q=cc-4200") == {"product:default/payments-gateway"}


def test_a_member_finds_the_team(base: str) -> None:
    assert "team:default/checkout-team" in found(base, "q=amara.okafor")


def test_a_capability_finds_the_products_serving_it(base: str) -> None:
    assert {"product:default/cart", "product:default/web-shop", "product:default/payments-gateway"} <= found(
        base, "kind=Product&q=checkout"
    )


def test_an_outcome_finds_what_it_is_aligned_with(base: str) -> None:
    refs = found(base, "q=refunds+within+two")
    assert {"product:default/payments-gateway", "capability:default/payments"} <= refs


def test_words_of_the_title_still_find_and_nothing_else_leaks_in(base: str) -> None:
    assert found(base, "q=acme+web") == {"product:default/web-shop"}
    assert found(base, "q=no-such-word-anywhere") == set()


def test_the_owner_picker_lists_teams_by_title_and_narrows_the_list(base: str) -> None:
    response = requests.get(base + "/catalog", headers=BROWSER, timeout=30)
    page = parse(response.text)
    options = [attrs for tag, attrs in page.elements if tag == "option"]
    values = [attrs.get("value") for attrs in options]
    assert "team:default/checkout-team" in values
    assert re.search(r"Checkout Squad \(\d+\)", page.text)
    narrowed = found(base, "owner=team:default/checkout-team")
    summary = requests.get(base + "/api/teams/checkout-team/summary", timeout=30).json()
    assert narrowed == {item["entityRef"] for item in summary["owned"]["entities"]}
    picked = parse(
        requests.get(base + "/catalog?owner=team:default/checkout-team", headers=BROWSER, timeout=30).text
    )
    selected = [attrs["value"] for tag, attrs in picked.elements if tag == "option" and "selected" in attrs]
    assert "team:default/checkout-team" in selected


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("q=%00", "NUL characters are not allowed"),
        ("q=" + "x" * 5000, "at most"),
        ("owner=team%3A", "owner"),
        ("sort=name&order=up", "order"),
    ],
)
def test_hostile_searches_answer_a_page_naming_the_parameter(base: str, query: str, says: str) -> None:
    response = requests.get(f"{base}/catalog?{query}", headers=BROWSER, timeout=30)
    assert response.status_code == 400
    assert says in parse(response.text).text


def test_wildcards_in_a_search_are_literal(base: str) -> None:
    percent = found(base, "q=%25")
    assert "product:default/web-shop" in percent  # "Grow online revenue 15% a year"
    assert len(percent) < len(found(base, "q="))  # a literal %, not "anything"
    assert found(base, "q=%25%25%25") == set()
