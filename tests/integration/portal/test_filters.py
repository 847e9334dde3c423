"""Narrowing and paging the portal's lists: what a reader gets back is what the filter says."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.integration.portal.html import Page, parse


def get(client: FlaskClient, url: str) -> Page:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return parse(response.data)


def entity_refs(page: Page) -> list[str]:
    """The refs of the catalog rows, in page order (each row's first cell shows its ref)."""
    refs: list[str] = []
    for row in page.rows[1:]:
        words = row[0].split()
        refs.extend(word for word in words if ":" in word and "/" in word)
    return refs


def test_filter_by_kind_keeps_only_that_kind_and_shows_the_choice(client: FlaskClient) -> None:
    page = get(client, "/catalog?kind=team")
    refs = entity_refs(page)
    assert len(refs) == 5
    assert all(ref.startswith("team:") for ref in refs)
    assert "5 entities match the filter" in page.text
    selected = [attrs for tag, attrs in page.elements if tag == "option" and "selected" in attrs]
    assert [attrs["value"] for attrs in selected] == ["Team"]
    assert page.href("Clear") == "/catalog"


def test_filter_by_owner_as_a_name_or_a_ref(client: FlaskClient) -> None:
    by_name = entity_refs(get(client, "/catalog?owner=checkout-team"))
    by_ref = entity_refs(get(client, "/catalog?owner=team:default/checkout-team"))
    assert by_name == by_ref
    assert set(by_name) == {
        "capability:default/catalog-management",
        "capability:default/checkout",
        "product:default/cart",
        "product:default/hostile-shop",
        "product:default/web-shop",
    }
    group = entity_refs(get(client, "/catalog?owner=marketing-team&kind=component"))
    assert group == ["component:default/newsletter-service"]


def test_filter_by_lifecycle_text_and_catalog_filter_combine(client: FlaskClient) -> None:
    experimental = entity_refs(get(client, "/catalog?lifecycle=experimental"))
    assert experimental == ["product:default/support-chatbot"]
    parcels = get(client, "/catalog?q=Parcel")
    assert entity_refs(parcels) == ["product:default/fulfilment-service", "team:default/fulfilment-team"]
    assert [attrs.get("value") for tag, attrs in parcels.elements if attrs.get("name") == "q"] == ["Parcel"]
    assert entity_refs(get(client, "/catalog?q=parcel&kind=product")) == [
        "product:default/fulfilment-service"
    ]
    tagged = entity_refs(get(client, "/catalog?filter=metadata.tags%3Djava"))
    assert tagged
    assert "product:default/pricing" in tagged
    both = entity_refs(get(client, "/catalog?filter=metadata.tags%3Djava&kind=product&lifecycle=production"))
    assert set(both) <= set(tagged)
    assert "product:default/pricing" in both
    nothing = get(client, "/catalog?kind=product&owner=platform-team&lifecycle=experimental")
    assert entity_refs(nothing) == []
    assert "No entity matches this filter" in nothing.text


def test_catalog_pages_forward_and_back_with_cursors(client: FlaskClient) -> None:
    first = get(client, "/catalog?kind=product&limit=5")
    assert "Showing 5 of 12" in first.text
    assert first.hrefs("Previous page") == []
    assert first.hrefs("First page") == []
    second = get(client, first.href("Next page"))
    third = get(client, second.href("Next page"))
    assert "Showing 2 of 12" in third.text
    assert third.hrefs("Next page") == []
    seen = entity_refs(first) + entity_refs(second) + entity_refs(third)
    assert len(seen) == len(set(seen)) == 12
    assert all(ref.startswith("product:") for ref in seen)
    back = get(client, third.href("Previous page"))
    assert entity_refs(back) == entity_refs(second)
    assert entity_refs(get(client, third.href("First page"))) == entity_refs(first)
    # the form keeps the filter while paging
    selected = [attrs["value"] for tag, attrs in second.elements if tag == "option" and "selected" in attrs]
    assert selected == ["Product"]


def test_scorecard_results_filter_by_level_and_page(client: FlaskClient) -> None:
    everything = get(client, "/scorecards/product-readiness?limit=100")
    levels = {
        ref: row[2].lower() for ref, row in everything.rows_by_ref().items() if ref.startswith("product:")
    }
    assert len(levels) == 11
    silver = get(client, "/scorecards/product-readiness?level=silver")
    silver_refs = [ref for ref in silver.rows_by_ref() if ref.startswith("product:")]
    assert silver_refs == sorted(ref for ref, level in levels.items() if level == "silver")
    none = get(client, "/scorecards/product-readiness?level=none")
    assert all(
        row[2].lower() == "none" for ref, row in none.rows_by_ref().items() if ref.startswith("product:")
    )

    first = get(client, "/scorecards/product-readiness?limit=4")
    collected = [ref for ref in first.rows_by_ref() if ref.startswith("product:")]
    page = first
    while page.hrefs("Next page"):
        page = get(client, page.href("Next page"))
        collected += [ref for ref in page.rows_by_ref() if ref.startswith("product:")]
    assert collected == sorted(levels)

    owned = get(client, "/scorecards/product-readiness?filter=relations.ownedBy%3Dteam:default/checkout-team")
    owned_refs = [ref for ref in owned.rows_by_ref() if ref.startswith("product:")]
    assert owned_refs == ["product:default/cart", "product:default/hostile-shop", "product:default/web-shop"]


def test_gaps_filter_by_type_and_owner_and_page(client: FlaskClient) -> None:
    typed = get(client, "/gaps?type=unknown_owner")
    listed = [row for row in typed.rows if len(row) == 5]
    assert [row[1] for row in listed[1:]] == ["Pricing"]
    assert typed.row("unknown owner")[1] == "1"
    assert typed.row("missing owner")[1] == "0"  # the summary follows the filter

    owned = get(client, "/gaps?owner=fulfilment-team")
    listed_types = [row[0] for row in owned.rows if len(row) == 5][1:]  # after the header row
    types = sorted(listed_types)
    assert types == ["orphaned entity", "product without capability", "team missing roles"]

    first = get(client, "/gaps?limit=3")
    subjects = [row[1] for row in first.rows if len(row) == 5][1:]
    page = first
    while page.hrefs("Next page"):
        page = get(client, page.href("Next page"))
        subjects += [row[1] for row in page.rows if len(row) == 5][1:]
    assert len(subjects) == 10
    assert len(set(subjects)) == 10


def repository_names(page: Page) -> list[str]:
    """The first cells of the repositories' table, which follows the sources' on the page."""
    header = next(n for n, row in enumerate(page.rows) if row and row[0] == "Repository")
    return [row[0] for row in page.rows[header + 1 :]]


def test_repositories_filter_by_state_and_page(client: FlaskClient) -> None:
    failing = get(client, "/repositories?state=failing")
    assert "No repository matches" in failing.text
    first = get(client, "/repositories?limit=5&state=ok")
    names = repository_names(first)
    page = first
    while page.hrefs("Next page"):
        page = get(client, page.href("Next page"))
        names += repository_names(page)
    assert len(names) == 13
    assert len(set(names)) == 13
    assert "Showing 3 of 13" in page.text
