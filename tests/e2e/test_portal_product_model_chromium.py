"""The product model's questions answered in a real Chromium, by clicking links only from the overview,
each answer on the page checked against the API's.

The demo (``tests.fixtures.demo``) is served once for the module. Debian's Chromium, driven by
Playwright, opens the overview once and from there only clicks. Every page's links, accessibility and
small-screen layout are checked by ``test_portal_crawl_chromium``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TIMEOUT_MS = 15_000


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    """A fresh browser tab with a desktop-sized window."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def api(tab: Any, base: str, path: str) -> Any:
    """An API answer, asked by the browser's own HTTP client."""
    response = tab.request.get(base + path, headers={"Accept": "application/json"})
    assert response.status == 200, path
    return response.json()


def every_item(tab: Any, base: str, path: str) -> list[dict[str, Any]]:
    """Every item of a paged API list."""
    items: list[dict[str, Any]] = []
    url = path
    while True:
        body = api(tab, base, url)
        items += body["items"]
        cursor = body["pageInfo"].get("nextCursor")
        if not cursor:
            return items
        url = f"{path}{'&' if '?' in path else '?'}cursor={cursor}"


def attributes(tab: Any, selector: str, name: str) -> list[str]:
    """The ``name`` attribute of every element matching ``selector``, in page order."""
    found: list[str] = tab.locator(selector).evaluate_all(
        f"elements => elements.map(element => element.getAttribute({name!r}))"
    )
    return found


def back_to_the_overview(tab: Any, base: str) -> None:
    """Click the brand link at the top of every page."""
    from playwright.sync_api import expect

    tab.locator("header.site a.brand").click()
    expect(tab).to_have_url(base + "/")


def ask(tab: Any, question: str) -> None:
    """Click one of the overview's questions."""
    tab.get_by_role("region", name="The product model's questions").get_by_role("link", name=question).click()


def test_each_question_of_the_product_model_is_answered_by_clicking_from_the_overview(
    demo: str, tab: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(demo + "/")
    expect(tab.get_by_role("heading", name="Overview", level=1)).to_be_visible()

    # Products per capability.
    ask(tab, "Which products serve each capability?")
    expect(tab.get_by_role("heading", name="Capabilities", level=1)).to_be_visible()
    shown = attributes(tab, "li[data-ref='capability:default/checkout'] > ul.products > li", "data-ref")
    checkout = api(tab, demo, "/api/catalog/entities/by-name/capability/default/checkout")
    served = {r["targetRef"] for r in checkout["relations"] if r["type"] == "hasPart"}
    assert set(shown) == {ref for ref in served if ref.startswith("product:")}
    assert len(shown) == 3
    tab.screenshot(path=str(tmp_path / "capabilities.png"), full_page=True)
    back_to_the_overview(tab, demo)

    # Capabilities nobody serves.
    ask(tab, "Which capabilities does nobody serve?")
    unserved = attributes(tab, "li.capability.unserved", "data-ref")
    gaps = every_item(tab, demo, "/api/ownership/gaps?type=capability_without_product")
    assert set(unserved) == {gap["entityRef"] for gap in gaps} == {"capability:default/loyalty"}
    back_to_the_overview(tab, demo)

    # Capabilities served by several teams.
    ask(tab, "Which capabilities are served by several teams?")
    duplicated = attributes(tab, "li.capability.duplicated", "data-ref")
    overlap = every_item(tab, demo, "/api/insights/capability-overlap")
    assert set(duplicated) == {item["capability"] for item in overlap} == {"capability:default/checkout"}
    back_to_the_overview(tab, demo)

    # Teams that are not cross-functional.
    ask(tab, "Which teams are not cross-functional?")
    expect(tab.get_by_role("heading", name="Teams", level=1)).to_be_visible()
    narrowed = attributes(tab, "table.directory tbody tr", "data-ref")
    missing = every_item(tab, demo, "/api/ownership/gaps?type=team_missing_roles") + every_item(
        tab, demo, "/api/ownership/gaps?type=team_without_members"
    )
    assert set(narrowed) == {gap["entityRef"] for gap in missing}
    assert narrowed
    back_to_the_overview(tab, demo)

    # Manual runbooks, per team.
    ask(tab, "Where are runbooks still manual?")
    expect(tab.get_by_role("heading", name="Manual runbooks")).to_be_in_viewport()
    for item in every_item(tab, demo, "/api/insights/runbook-automation"):
        row = tab.locator(f"table.runbooks tr[data-ref='{item['team']}'] td").first
        expect(row).to_have_text(str(item["manual"]))
    back_to_the_overview(tab, demo)

    # Coordination load, drawn and listed.
    ask(tab, "Which teams carry the most coordination?")
    expect(tab.get_by_role("img", name="Dependencies between teams")).to_be_visible()
    load = every_item(tab, demo, "/api/insights/coordination-load")
    assert attributes(tab, "table.coordination tbody tr", "data-ref") == [item["team"] for item in load]
    for item in load:
        total = tab.locator(f"table.coordination tr[data-ref='{item['team']}'] td").nth(2)
        expect(total).to_have_text(str(item["total"]))
    tab.locator("#coordination").screenshot(path=str(tmp_path / "coordination.png"))
    back_to_the_overview(tab, demo)

    # Technical debt by team.
    ask(tab, "Where is technical debt piling up?")
    debt = every_item(tab, demo, "/api/insights/tech-debt")
    assert attributes(tab, "article.debt-team", "data-ref") == [team["team"] or "" for team in debt]
    for team in debt:
        items = tab.locator(f"article.debt-team[data-ref='{team['team'] or ''}'] tbody tr")
        expect(items).to_have_count(team["total"])
        expect(items.first).to_contain_text(team["items"][0]["title"])
    back_to_the_overview(tab, demo)

    # What to fix next, for one team.
    ask(tab, "What should each team fix next?")
    tab.locator("table.directory").get_by_role("link", name="Checkout Squad").click()
    expect(tab.get_by_role("heading", name="Checkout Squad", level=1)).to_be_visible()
    steps = api(tab, demo, "/api/teams/checkout-team/next")["steps"]
    shown_steps = attributes(tab, "table.next-steps tbody tr", "data-check")
    assert shown_steps == [f"{step['scorecard']}/{step['check']}" for step in steps]
    assert steps
    expect(tab.locator("table.next-steps tbody tr").first).to_contain_text(steps[0]["how"][:40])
    assert errors == []
