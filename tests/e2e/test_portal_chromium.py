"""The portal in a real Chromium: a platform engineer's walk through the example organisation.

``descriptors/examples`` is built as real git repositories, synced and scored by the real engine
(``catalog_sync.cli``'s own wiring), and served on a free loopback port by werkzeug, as ``catalog-sync
serve`` does. Debian's Chromium, driven by Playwright, then goes from the overview to the catalog,
narrows it to products, opens one, follows its owner to the team's page, then looks at a scorecard
and at the ownership gaps, checking at each step what a person would read on the screen.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.demo import serving_demo

TIMEOUT_MS = 10_000


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The example organisation, synced and scored, served with the portal; answers the base URL."""
    with serving_demo(tmp_path / "demo") as url:
        yield url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser tab with a desktop-sized window."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def test_walk_from_overview_to_team_scorecards_and_gaps(served: str, page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    # The overview: what the organisation holds, with the style sheet applied.
    page.goto(served + "/")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Entities 35")).to_be_visible()
    expect(page.get_by_role("heading", name="Ownership gaps 8")).to_be_visible()
    expect(page.get_by_role("row", name="Product 9")).to_be_visible()
    expect(page.get_by_role("link", name="Product readiness")).to_be_visible()
    header = page.locator("header.site")
    assert header.evaluate("element => getComputedStyle(element).backgroundColor") == "rgb(31, 59, 92)"
    shot = tmp_path / "portal-overview.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000

    # The catalog, narrowed to products with the form.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    expect(page.get_by_role("heading", name="Catalog", level=1)).to_be_visible()
    expect(page.get_by_text("35 entities")).to_be_visible()
    page.get_by_label("Kind", exact=True).select_option("Product")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("9 entities match the filter")).to_be_visible()
    expect(page).to_have_url(served + "/catalog?kind=Product")  # empty fields stay out of the URL
    rows = page.locator("table.entities tbody tr")
    expect(rows).to_have_count(9)
    expect(page.get_by_role("row", name="Support chatbot").get_by_text("no owner")).to_be_visible()

    # One product: its owner, scorecards and repository.
    page.get_by_role("link", name="Acme Web Shop").click()
    expect(page.get_by_role("heading", name="Acme Web Shop", level=1)).to_be_visible()
    expect(page.get_by_text("The online store at shop.acme-retail.example", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="Product readiness")).to_be_visible()
    expect(page.get_by_role("link", name="web-shop", exact=True)).to_be_visible()

    # Its owner's page.
    page.get_by_role("link", name="Checkout Squad").first.click()
    expect(page).to_have_url(served + "/teams/checkout-team")
    expect(page.get_by_role("heading", name="Checkout Squad", level=1)).to_be_visible()
    expect(page.get_by_text("amara.okafor")).to_be_visible()
    expect(page.get_by_role("row", name="Acme Web Shop gold")).to_be_visible()

    # A scorecard, with its trend drawn as a sparkline.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scorecards").click()
    page.get_by_role("link", name="Product readiness").click()
    expect(page.get_by_role("heading", name="Product readiness", level=1)).to_be_visible()
    expect(page.get_by_role("img", name="Average score from")).to_be_visible()
    expect(page.get_by_role("row", name="Acme Web Shop")).to_be_visible()

    # The ownership gaps, narrowed to one type.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ownership gaps").click()
    expect(page.get_by_role("heading", name="Ownership gaps", level=1)).to_be_visible()
    page.get_by_label("Type", exact=True).select_option("unknown_owner")
    page.get_by_role("button", name="Filter").click()
    gap_rows = page.locator("table.gaps tbody tr")
    expect(gap_rows).to_have_count(1)
    expect(gap_rows.first).to_contain_text("Pricing")
    expect(gap_rows.first).to_contain_text("not in the catalog")
    expect(page).to_have_url(served + "/gaps?type=unknown_owner")
    page.go_back()
    expect(page.get_by_label("Owner", exact=True)).to_be_enabled()  # "back" gives a usable form again
    expect(page.locator("table.gaps tbody tr")).to_have_count(8)

    assert errors == []
