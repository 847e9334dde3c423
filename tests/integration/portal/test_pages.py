"""Every portal page renders from a real synced catalog and shows what a platform team looks for."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.integration.portal.html import Page, parse


def get(client: FlaskClient, url: str, status: int = 200) -> Page:
    """Fetch a page as a browser would, check its status and that it is HTML, and parse it."""
    response = client.get(url, headers={"Accept": "text/html"})
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    return parse(response.data)


def test_overview_counts_entities_repositories_gaps_and_scorecards(client: FlaskClient) -> None:
    page = get(client, "/")
    assert page.row("Product")[1] == "12"  # 9 examples, hostile-shop, wobbly and the orphan leaving-soon
    assert page.row("Team")[1] == "5"
    assert page.href("Product") == "/catalog?kind=Product"
    assert page.row("ok")[1] == "13"
    assert page.row("failing")[1] == "0"
    assert page.row("missing owner")[1] == "1"
    assert page.row("orphaned entity")[1] == "1"
    assert page.href("unknown owner") == "/gaps?type=unknown_owner"
    readiness = page.row("Product readiness")
    assert readiness[1] == "11"  # the products in production or experiment, the orphan included
    assert re.fullmatch(r"\d+\.\d", readiness[2])
    assert "NONE" in readiness[3].upper()
    assert "GOLD" in readiness[3].upper()
    assert page.href("Product readiness") == "/scorecards/product-readiness"
    assert "Last sync" in page.text
    assert "13 repositories" in page.text


def test_navigation_marks_the_current_section(client: FlaskClient) -> None:
    for url, label in (
        ("/", "Overview"),
        ("/catalog", "Catalog"),
        ("/catalog/product/default/web-shop", "Catalog"),
        ("/scorecards/product-readiness", "Scorecards"),
        ("/gaps", "Ownership gaps"),
        ("/repositories/1", "Repositories"),
    ):
        page = get(client, url)
        current = [
            attrs for tag, attrs in page.elements if tag == "a" and attrs.get("aria-current") == "page"
        ]
        assert len(current) == 1, url
        assert page.hrefs(label)[0] == current[0]["href"]


def test_catalog_lists_entities_with_owner_links_and_markers(client: FlaskClient) -> None:
    page = get(client, "/catalog?limit=100")
    assert "38 entities" in page.text
    web_shop = page.row("Acme Web Shop")
    assert web_shop[1:5] == ["Product", "Checkout Squad", "production", "1"]  # titles, refs on hover
    assert page.href("Acme Web Shop") == "/catalog/product/default/web-shop"
    assert page.ref_href("team:default/checkout-team") == "/teams/checkout-team"
    assert "orphan" in page.row("Leaving soon")[5]
    assert "1 error" in page.row("Wobbly service")[5]
    assert "1 warning" in page.row("Support chatbot")[5]
    assert "no owner" in page.row("Support chatbot")[2]
    assert "not in the catalog" in page.row("Pricing")[2]
    assert page.row("Checkout Squad")[2] == "—"  # a team has no owner to miss
    assert page.row("Acme Web Shop")[5] == "ok"


def test_entity_page_shows_envelope_relations_scorecards_and_repository(client: FlaskClient) -> None:
    page = get(client, "/catalog/product/default/web-shop")
    assert page.title.startswith("Acme Web Shop")
    assert "product:default/web-shop" in page.text
    assert "The online store at shop.acme-retail.example" in page.text
    assert page.ref_href("team:default/checkout-team") == "/teams/checkout-team"
    assert page.ref_text("team:default/checkout-team") == "Checkout Squad"
    assert page.href("Live site") == "https://shop.acme-retail.example"
    assert page.href("typescript") == "/catalog?filter=metadata.tags%3Dtypescript"
    for relation in ("dependsOn", "ownedBy", "partOf", "dependencyOf"):
        assert relation in page.text
    assert page.ref_href("product:default/cart") == "/catalog/product/default/cart"
    assert page.ref_href("capability:default/checkout") == "/catalog/capability/default/checkout"
    assert page.href("Product readiness") == "/scorecards/product-readiness"
    check = page.row("Owned by a team of the catalog")
    assert check[2].endswith("passed")
    assert check[3] == "Checkout Squad"  # the value names the team by its title, its ref on hover
    assert re.fullmatch(r"/repositories/\d+", page.href("web-shop"))
    assert "catalog-info.yaml" in page.text
    assert "Grow online revenue 15% a year" in page.text  # outcomes, in the About card
    kpi = page.row("Lead time for changes")  # the KPI card, in "KPIs and runbooks": target against actual
    assert kpi[1] == "speed to market"
    assert kpi[3] == "≤ 2 days"
    assert page.row("Move image resizing off the request path")[1] == "medium"  # the technical debt, a table


def test_entity_page_marks_an_owner_missing_from_the_catalog_and_only_that_one(client: FlaskClient) -> None:
    missing = get(client, "/catalog/product/default/pricing")
    known = get(client, "/catalog/product/default/web-shop")

    assert "not in the catalog" in missing.text
    assert "not in the catalog" not in known.text


def test_entity_page_shows_processing_errors_with_file_and_line(client: FlaskClient) -> None:
    page = get(client, "/catalog/product/default/wobbly")
    assert "1 processing error" in page.text
    problem = page.row("error")
    assert re.fullmatch(r"catalog-info\.yaml:\d+:\d+", problem[1])
    assert problem[2] == "spec.lifecycle"
    assert "must be one of" in problem[3]
    assert "production" in page.text  # the last good entity is kept


def test_orphan_and_person_owned_entities_say_so(client: FlaskClient) -> None:
    orphan = get(client, "/catalog/product/default/leaving-soon")
    assert "orphan: its descriptor was deleted" in orphan.text
    person = get(client, "/catalog/product/default/campaign-pages")
    assert person.ref_href("user:default/lena.fischer") == "/catalog/user/default/lena.fischer"


def test_scorecards_page_lists_every_scorecard_with_levels(client: FlaskClient) -> None:
    page = get(client, "/scorecards")
    for title in ("Product readiness", "Service basics", "Operational readiness", "Security baseline"):
        assert page.href(title).startswith("/scorecards/")
    assert "Applies to" in page.text
    assert "Average score" in page.text
    assert page.ref_href("scorecard:default/operational-readiness") == (
        "/catalog/scorecard/default/operational-readiness"
    )


def test_scorecard_page_shows_checks_results_and_a_trend(client: FlaskClient) -> None:
    page = get(client, "/scorecards/product-readiness")
    assert page.row("Owned by a team of the catalog")[1].upper() == "BRONZE"
    result = page.row("Acme Web Shop")
    assert result[1] == "Checkout Squad"
    assert re.fullmatch(r"\d+\.\d", result[3])
    assert page.ref_href("product:default/web-shop") == "/catalog/product/default/web-shop"
    svg = [attrs for tag, attrs in page.elements if tag == "svg"]
    assert svg
    assert svg[0].get("role") == "img"
    dots = [attrs for tag, attrs in page.elements if tag == "circle"]
    assert len(dots) == 2  # scored three days ago and today
    assert any(tag == "polyline" for tag, _ in page.elements)
    assert "over 2 days" in page.text
    assert page.scripts == 0


def test_gaps_page_summarises_and_lists_every_gap(client: FlaskClient) -> None:
    page = get(client, "/gaps")
    assert page.row("missing owner")[1] == "1"
    assert page.row("orphaned entity")[1] == "1"
    assert "By type 10" in page.text  # leaving-soon's repository has no descriptor any more: 2 gaps
    assert page.ref_href("product:default/support-chatbot") == "/catalog/product/default/support-chatbot"
    repositories = [
        row[1] for row in page.rows if len(row) == 5 and row[0] == "repository without descriptor"
    ]
    assert repositories == ["repository leaving", "repository legacy-reports"]
    assert page.href("legacy-reports").startswith("/repositories/")
    unknown = [row for row in page.rows if len(row) == 5 and row[0] == "unknown owner"]
    assert unknown[0][1:4] == ["Pricing", "team-that-left not in the catalog", "2"]
    assert "team:default/team-that-left" in page.unlinked_refs()


def test_team_page_shows_members_owned_entities_gaps_and_insights(client: FlaskClient) -> None:
    page = get(client, "/teams/checkout-team")
    assert page.title.startswith("Checkout Squad")
    assert "amara.okafor" in page.text
    assert "product owner" in page.text
    cart = [row for row in page.rows if row and row[0] == "Cart"]  # its KPIs' rows, then its levels
    assert any("SILVER" in cell.upper() for row in cart for cell in row[1:])
    headings = re.findall(r'<h2 id="([^"]+)"', client.get("/teams/checkout-team").get_data(as_text=True))
    assert headings.index("team-kpis-title") == headings.index("next-title") + 1  # KPIs beside what to fix
    assert page.ref_href("product:default/hostile-shop") == "/catalog/product/default/hostile-shop"
    assert "Runbooks" in page.text
    assert "manual" in page.text
    assert page.ref_href("team:default/payments-team") == "/teams/payments-team"
    assert page.href("in the catalog") == "/catalog?owner=team:default/checkout-team"

    roles_gap = get(client, "/teams/fulfilment-team")
    assert "team missing roles" in roles_gap.text
    group = get(client, "/teams/marketing-team")
    assert "group:default/marketing-team" in group.text


def test_repositories_list_and_repository_page(client: FlaskClient) -> None:
    page = get(client, "/repositories")
    examples = page.row("examples")  # the sources first, each with how its last listing went
    assert (examples[1], examples[3], examples[5]) == ("local", "ok", "13")
    assert page.href("examples") == "/repositories?source=examples"
    assert "Showing 13 of 13" in page.text
    wobbly = page.row("wobbly")
    assert wobbly[2] == "ok"
    assert "1 error" in wobbly[6]
    assert "no descriptor" in page.row("legacy-reports")[0]
    detail = get(client, page.href("wobbly"))
    problem = detail.row("error")
    assert re.fullmatch(r"catalog-info\.yaml:\d+:\d+", problem[1])
    assert detail.href("Wobbly service") == "/catalog/product/default/wobbly"
    assert re.search(r"Last commit [0-9a-f]{40}", detail.text)


def test_style_sheet_and_script_are_served_and_linked(client: FlaskClient) -> None:
    page = get(client, "/")
    sheets = [
        attrs["href"] for tag, attrs in page.elements if tag == "link" and attrs.get("rel") == "stylesheet"
    ]
    assert sheets == ["/portal/static/portal.css"]
    css = client.get(sheets[0])
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    assert b"header.site" in css.data
    css.close()  # the file it streamed from, as a WSGI server would
    assert page.script_sources == ["/portal/static/portal.js"]
    assert page.scripts == 0
    script = client.get(page.script_sources[0])
    assert script.status_code == 200
    assert b"addEventListener" in script.data
    script.close()
