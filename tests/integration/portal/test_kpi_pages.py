"""KPIs in the portal: the card on a product's page, the block on a team's page, and ``/kpis``."""

from __future__ import annotations

from flask.testing import FlaskClient

from catalog_sync.descriptors.kpis import KPI_CATEGORIES
from tests.integration.portal.test_pages import get


def test_a_product_page_shows_target_against_actual_status_and_trend(client: FlaskClient) -> None:
    page = get(client, "/catalog/product/default/web-shop")
    nps = page.row("Net promoter score")
    assert nps[1] == "customer satisfaction"
    assert (nps[2], nps[3]) == ("41", "≥ 45")
    assert nps[4].startswith("missed")
    raw = client.get("/catalog/product/default/web-shop").get_data(as_text=True)
    assert "over the last 5 days: from 47 to 41" in raw  # the pushed survey results, as a trend line
    releases = page.row("Releases per month")
    assert releases[4].startswith("missed")  # one release (the example's tag) of two wanted
    conversion = page.row("Conversion rate")
    assert conversion[4].startswith("unknown")
    assert "kpis.prometheus_url is not set" in conversion[4]
    assert page.row("Change failure rate")[4].startswith("declared only")


def test_a_team_page_counts_its_kpis_by_category(client: FlaskClient) -> None:
    page = get(client, "/teams/platform-team")
    satisfaction = page.row("customer satisfaction")
    assert satisfaction[1:] == ["1", "0", "0", "0"]  # on-call engineers' satisfaction 4.5, met
    assert page.href("This team's KPIs on the KPI page") == "/kpis?owner=team:default/platform-team"


def test_the_kpi_page_lists_missed_first_and_filters(client: FlaskClient) -> None:
    page = get(client, "/kpis")
    order = ["missed", "unknown", "met", "declared"]
    rows = [row for row in page.rows if len(row) == 8 and row[0] != "Product"]
    statuses = [next(word for word in order if row[5].startswith(word)) for row in rows]
    assert statuses == sorted(statuses, key=order.index)
    assert statuses[0] == "missed"
    met = get(client, "/kpis?status=met&category=customer-satisfaction")
    rows = [row for row in met.rows if len(row) == 8 and row[0] != "Product"]
    assert [row[1] for row in rows] == ["Satisfaction of on-call engineerspush · 30d"]  # name, then how


def test_the_kpi_page_rolls_kpis_up_per_capability_as_the_api_does(client: FlaskClient) -> None:
    page = get(client, "/kpis")
    by_capability = client.get("/api/kpis").get_json()["summary"]["byCapability"]
    checkout = by_capability["capability:default/checkout"]
    assert sum(sum(counts.values()) for counts in checkout.values()) > 0  # the web shop's and the cart's
    row = page.row("Checkout")
    assert row[1:] == [
        "{met} / {missed} / {unknown} / {declared}".format(**checkout[category])
        for category in KPI_CATEGORIES
    ]
    assert page.href("Checkout") == "/catalog/capability/default/checkout"
    capability = get(client, "/catalog/capability/default/checkout")
    for name in KPI_CATEGORIES:
        counts = checkout[name]
        shown = [str(counts[status]) for status in ("met", "missed", "unknown", "declared")]
        assert capability.row(name.replace("-", " "))[1:] == shown, name


def test_a_bad_filter_on_the_kpi_page_is_a_clear_400(client: FlaskClient) -> None:
    page = get(client, "/kpis?status=excellent", status=400)
    assert "status" in page.text
    assert "not one of met, missed, unknown, declared" in page.text
