"""Every page of the demo, crawled in a real Chromium from the overview: no broken link, no serious
accessibility problem, and every page usable on a 390 pixel wide phone.

The demo (``tests.fixtures.demo``) is served once for the module and crawled once: each link found on a
page is asked for, and each page (the same list in another order counts once) is opened in the
browser. The first time a page path is seen, axe-core (``tests.fixtures.axe``) checks it, the window
is narrowed to 390x844 to check the layout, and a screenshot of each size is taken. Screenshots go to
``$CATALOG_SYNC_SCREENSHOTS`` when it is set (``<page>.desktop.png``, ``<page>.390.png``, each the
whole page), else to a temporary folder (each the first screen only, which is quicker).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest

TIMEOUT_MS = 60_000
"""Generous: on a loaded machine a full-page screenshot alone can take several seconds."""
MAX_BROWSER_PAGES = 400
"""Pages the crawl opens in the browser at most (every link found is still checked)."""
REPORTED_IMPACTS = ("serious", "critical")
"""axe's impacts a page must not have: minor and moderate ones are advice, these block people."""
ERROR_PAGES = {
    "/catalog/product/default/no-such-product": 404,
    "/catalog/product/default/web%2Fshop": 404,
    "/catalog?sort=nothing": 400,
}
"""Pages people reach by mistake, checked like the others."""
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Crawl:
    """What the crawl found: broken links, pages opened, one address per page path, axe's findings, and
    what does not fit a phone."""

    broken: list[str] = field(default_factory=list)
    opened: set[str] = field(default_factory=set)
    paths: dict[str, str] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    too_wide: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the crawl's screenshots go: ``$CATALOG_SYNC_SCREENSHOTS``, else a temporary folder."""
    wanted = os.environ.get("CATALOG_SYNC_SCREENSHOTS", "").strip()
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_tab(browser: Any, viewport: dict[str, int], **options: Any) -> Any:
    """A fresh tab in its own context; the caller closes ``tab.context``."""
    context = browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


@pytest.fixture(scope="module")
def crawl(demo: str, browser: Any, axe_script: Path, screenshots: Path) -> Iterator[Crawl]:
    """Crawl the demo from the overview at desktop size, auditing each page path the first time."""
    tab = open_tab(browser, DESKTOP)
    try:
        found = Crawl()
        follow_links(tab, demo, found, axe_script, screenshots)
        for path, status in ERROR_PAGES.items():
            response = tab.goto(demo + path)
            assert response is not None
            assert response.status == status, path
            assert response.headers["content-type"].startswith("text/html"), path
            audit(tab, path, found, axe_script, screenshots)
        yield found
    finally:
        tab.context.close()


def follow_links(tab: Any, base: str, found: Crawl, axe_script: Path, screenshots: Path) -> None:
    """Visit every same-origin page reachable from the overview and ask for every link found.

    A page path seen for the first time is opened in the browser and audited; the same path with other
    parameters (a filter, a page of a list) is read over HTTP, its links taken from the HTML.
    """
    status: dict[str, int] = {}
    queue = ["/"]
    while queue:
        path = queue.pop(0)
        key = page_key(path)
        if key in found.opened or len(found.opened) >= MAX_BROWSER_PAGES:
            continue
        found.opened.add(key)
        first = urlsplit(path).path not in found.paths
        if first:
            response = tab.goto(base + path)
            assert response is not None
            code, html = response.status, response.headers.get("content-type") or ""
        else:
            answer = tab.request.get(base + path, headers={"Accept": "text/html"})
            code, html = answer.status, answer.headers.get("content-type") or ""
        if code >= 400:
            found.broken.append(f"{path}: {code}")
            continue
        if not html.startswith("text/html"):
            continue
        if first:
            found.paths[urlsplit(path).path] = path
            audit(tab, path, found, axe_script, screenshots)
            hrefs: list[str] = tab.locator("a[href]").evaluate_all("links => links.map(link => link.href)")
        else:
            hrefs = links_of(answer.text(), base + path)
        for target in same_origin(hrefs, base):
            if target not in status:
                status[target] = tab.request.get(base + target, headers={"Accept": "text/html"}).status
                if status[target] >= 400:
                    found.broken.append(f"{path} -> {target}: {status[target]}")
            if not target.startswith(("/api/", "/portal/static/", "/metrics", "/schemas/")):
                queue.append(target)


def same_origin(hrefs: list[str], base: str) -> Iterator[str]:
    """The path and query of each link to ``base``'s origin."""
    origin = urlsplit(base).netloc
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme in ("http", "https") and parts.netloc == origin:
            yield parts.path + (f"?{parts.query}" if parts.query else "")


class _Links(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href is not None:
            self.found.append(urljoin(self.url, href))


def links_of(html: str, url: str) -> list[str]:
    """The absolute address of every ``<a href>`` of a page, as the browser resolves them."""
    parser = _Links(url)
    parser.feed(html)
    return parser.found


def audit(tab: Any, path: str, found: Crawl, axe_script: Path, screenshots: Path) -> None:
    """Check the open page: axe-core's serious findings, then its layout at 390 pixels; screenshots of
    both sizes."""
    tab.add_script_tag(path=str(axe_script))
    results = tab.evaluate(
        "() => axe.run(document, {resultTypes: ['violations'], preload: false, iframes: false})"
    )
    for violation in results["violations"]:
        if violation["impact"] not in REPORTED_IMPACTS:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        shown = ", ".join(targets[:5]) + (f" and {len(targets) - 5} more" if len(targets) > 5 else "")
        found.violations.append(
            f"{path}: {violation['id']} ({violation['impact']}) at {shown}: {violation['help']}"
        )
    whole = bool(os.environ.get("CATALOG_SYNC_SCREENSHOTS", "").strip())
    tab.screenshot(path=str(screenshots / f"{slug(path)}.desktop.png"), full_page=whole)
    tab.set_viewport_size(PHONE)
    try:
        found.too_wide += phone_problems(tab, path)
        tab.screenshot(path=str(screenshots / f"{slug(path)}.390.png"), full_page=whole)
    finally:
        tab.set_viewport_size(DESKTOP)


PHONE_CHECK = """() => {
  const window_width = window.innerWidth;
  const nav = document.querySelector('nav[aria-label="Main"]');
  const links = nav ? [...nav.querySelectorAll('a[href]')] : [];
  const unreachable = links.filter(link => {
    const box = link.getBoundingClientRect();
    return box.width === 0 || box.left < 0 || box.right > window_width + 1;
  }).map(link => link.textContent.trim());
  const width = document.scrollingElement.scrollWidth;
  return {width, window: window_width, links: links.length, unreachable};
}"""
"""In one round trip: the document's width, the window's, and the main navigation's links out of reach."""


def phone_problems(tab: Any, path: str) -> list[str]:
    """What goes wrong with the open page in a phone-sized window: a page wider than the window, a
    navigation link out of reach."""
    problems: list[str] = []
    found = tab.evaluate(PHONE_CHECK)
    if found["width"] > found["window"] + 1:
        problems.append(f"{path}: {found['width']} px wide in a {found['window']} px window ({widest(tab)})")
    if not found["links"]:
        problems.append(f"{path}: no main navigation")
    problems += [f"{path}: the navigation link {text!r} is out of reach" for text in found["unreachable"]]
    return problems


def page_key(path: str) -> str:
    """A page as the crawl opens it in the browser: the same list in another order is the same page."""
    parts = urlsplit(path)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key not in ("sort", "order")]
    return parts.path + "?" + urlencode(sorted(query))


def slug(path: str) -> str:
    """A file name for a page: ``/teams/checkout-team`` -> ``teams-checkout-team``."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")
    return name or "overview"


def test_no_page_of_the_demo_has_a_broken_link(crawl: Crawl) -> None:
    assert crawl.broken == []
    assert len(crawl.opened) > 100, len(crawl.opened)
    assert len(crawl.opened) < MAX_BROWSER_PAGES, "the crawl stopped before it saw every page"


def test_no_page_has_a_serious_or_critical_accessibility_violation(crawl: Crawl, screenshots: Path) -> None:
    assert len(crawl.paths) > 40, sorted(crawl.paths)
    assert not crawl.violations, "axe-core found on the portal's pages:\n" + "\n".join(crawl.violations)
    assert (screenshots / "overview.desktop.png").stat().st_size > 20_000


def test_every_page_fits_a_390_pixel_wide_screen_with_its_navigation_at_hand(crawl: Crawl) -> None:
    assert crawl.too_wide == []


def widest(tab: Any) -> str:
    """The element that sticks out furthest to the right, to name in a failure."""
    found: str = tab.evaluate(
        """() => {
          let worst = null, right = window.innerWidth;
          for (const element of document.querySelectorAll('body *')) {
            const edge = element.getBoundingClientRect().right;
            if (edge > right) { right = edge; worst = element; }
          }
          if (!worst) return 'nothing sticks out';
          const classes = String(worst.className || '').split(' ').filter(Boolean);
          const name = [worst.tagName.toLowerCase(), ...classes].join('.');
          return `${name} reaches ${Math.round(right)} px`;
        }"""
    )
    return found


def test_searching_filtering_and_sorting_work_with_javascript_turned_off(demo: str, browser: Any) -> None:
    from playwright.sync_api import expect

    tab = open_tab(browser, DESKTOP, java_script_enabled=False)
    main = tab.get_by_role("navigation", name="Main")
    try:
        tab.goto(demo + "/")
        assert tab.evaluate("1 + 1") == 2  # Playwright's own scripts run; the page's do not

        # Search the catalog, then narrow it to a kind with the form, and sort by a column's link.
        main.get_by_role("link", name="Catalog").click()
        tab.get_by_label("Text", exact=True).fill("checkout")
        tab.get_by_role("button", name="Filter").click()
        expect(tab).to_have_url(re.compile(r"/catalog\?.*q=checkout"))
        expect(tab.locator("table.entities tbody tr").first).to_be_visible()
        tab.get_by_label("Text", exact=True).fill("")
        tab.get_by_label("Kind", exact=True).select_option("Product")
        tab.get_by_role("button", name="Filter").click()
        expect(tab.get_by_text("9 entities match the filter")).to_be_visible()
        tab.locator("table.entities thead").get_by_role("link", name="Entity").click()
        expect(tab.locator("table.entities th[aria-sort='descending']")).to_have_text(re.compile("Entity"))
        links = tab.locator("table.entities tbody tr th a").evaluate_all("links => links.map(a => a.href)")
        names = [link.rsplit("/", 1)[1] for link in links]
        assert names == sorted(names, reverse=True)
        assert len(names) == 9

        # The gaps: filter by type, then sort by owner; the filter stays.
        main.get_by_role("link", name="Ownership gaps").click()
        tab.get_by_label("Type", exact=True).select_option("missing_owner")
        tab.get_by_role("button", name="Filter").click()
        expect(tab.locator("table.gaps tbody tr")).to_have_count(1)
        main.get_by_role("link", name="Ownership gaps").click()
        tab.locator("table.gaps thead").get_by_role("link", name="Tier").click()
        expect(tab).to_have_url(re.compile(r"/gaps\?sort=tier&order=asc$"))
        tiers = tab.locator("table.gaps tbody tr td:nth-child(4)").all_inner_texts()
        assert tiers == sorted(tiers)
        assert len(tiers) == 8

        # A scorecard's results, best score first.
        main.get_by_role("link", name="Scorecards").click()
        tab.get_by_role("link", name="Product readiness").first.click()
        score = tab.locator("table.results thead").get_by_role("link", name="Score")
        score.click()
        tab.locator("table.results thead").get_by_role("link", name="Score").click()
        expect(tab.locator("table.results th[aria-sort='descending']")).to_have_text(re.compile("Score"))
        scores = [float(text) for text in tab.locator("table.results tbody td.num").all_inner_texts()]
        assert scores == sorted(scores, reverse=True)
        assert len(scores) > 2

        # The teams, most gaps first.
        main.get_by_role("link", name="Teams").click()
        gaps = tab.locator("table.directory thead").get_by_role("link", name="Gaps")
        gaps.click()
        tab.locator("table.directory thead").get_by_role("link", name="Gaps").click()
        counts = [
            int(text) for text in tab.locator("table.directory tbody tr td:nth-child(4)").all_inner_texts()
        ]
        assert counts == sorted(counts, reverse=True)
        assert counts[0] > 0
    finally:
        tab.context.close()


def test_the_checks_name_the_page_the_rule_and_the_element_that_fail(
    browser: Any, axe_script: Path, tmp_path: Path
) -> None:
    tab = open_tab(browser, DESKTOP)
    try:
        tab.set_content(
            '<html lang="en"><head><title>Broken</title></head><body style="margin: 0"><main>'
            '<nav aria-label="Main"><a href="/">Overview</a></nav><h1>Broken</h1>'
            '<img src="data:," id="chart"><div style="width: 800px">a wide row</div></main></body></html>'
        )
        found = Crawl()
        audit(tab, "/broken", found, axe_script, tmp_path)
    finally:
        tab.context.close()
    assert any(line.startswith("/broken: image-alt (critical) at #chart: ") for line in found.violations)
    assert found.too_wide == ["/broken: 800 px wide in a 390 px window (div reaches 800 px)"]
    assert (tmp_path / "broken.desktop.png").is_file()
    assert (tmp_path / "broken.390.png").is_file()
