"""The initiative pages and the exemption on an entity's page, from a real synced and scored organisation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from tests.fixtures.initiative_org import TODAY, UNTIL, initiative_app
from tests.integration.portal.html import Page, parse


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    yield from (app.test_client() for app in initiative_app(tmp_path_factory.mktemp("initiative-pages")))


def get(client: FlaskClient, url: str, status: int = 200) -> tuple[Page, str]:
    response = client.get(url, headers={"Accept": "text/html"})
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:2000]
    assert response.mimetype == "text/html"
    return parse(response.data), body


def test_the_list_shows_progress_and_links_each_initiative(client: FlaskClient) -> None:
    page, _ = get(client, "/initiatives")
    row = page.row("Every product measured")
    assert row[2].startswith("basics: level silver")
    assert row[4].startswith("1 / 2 (50.0%)")
    assert page.href("Every product measured") == "/initiatives/measured"
    assert page.href("Initiatives") == "/initiatives"  # in the main navigation


def test_an_initiative_page_draws_its_burn_up_and_lists_what_is_left(client: FlaskClient) -> None:
    page, body = get(client, "/initiatives/measured")
    assert "<svg" in body
    assert body.count("<polyline") == 3  # in scope, done, and the pace needed
    assert f"1 of 2 done on {TODAY.isoformat()}" in page.text
    assert page.row("team:default/shop-team")[1:] == ["2", "1", "1"]
    assert page.row("product:default/search")[2].endswith("not yet")
    assert page.href("product:default/search") == "/catalog/product/default/search"


def test_an_entity_page_shows_its_exemption_and_its_initiatives(client: FlaskClient) -> None:
    page, _ = get(client, "/catalog/product/default/web-shop")
    row = page.row("KPIs defined")
    assert row[2] == "exempted"
    assert f"Exempted until {UNTIL}: New analytics in March (approved by ann)." in row[4]
    assert page.href("Every product measured") == "/initiatives/measured"
    assert "done here" in page.text


def test_a_team_page_lists_the_initiatives_it_takes_part_in(client: FlaskClient) -> None:
    page, _ = get(client, "/teams/shop-team")
    assert page.row("Every product measured")[3] == "1 of 2 done"
    platform, _ = get(client, "/teams/platform")
    assert platform.row("Every product measured")[3] == "runs it"


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/initiatives/nope", 404, "no initiative named"),
        ("/initiatives/%3Cscript%3Ealert(1)%3C%5Cscript%3E", 404, "no initiative named"),
        ("/initiatives?cursor=%01%02", 400, "cursor"),
        ("/initiatives?limit=abc", 400, "limit"),
        ("/initiatives/measured?cursor=bm9wZQ", 400, "cursor"),
    ],
)
def test_a_hostile_address_gets_an_html_error_naming_what_is_wrong(
    client: FlaskClient, url: str, status: int, words: str
) -> None:
    _, body = get(client, url, status)
    assert words in body
    assert "<script>alert" not in body
