"""Bad links and bad parameters get an HTML page that says what was wrong: never a 500, never a traceback.

Also: a catalog that needs a token to read says so on a page, the API keeps answering JSON, and the
pages stay out of the OpenAPI description.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from catalog_sync.cli import build_app
from catalog_sync.store.engine import open_engine
from tests.integration.portal.conftest import PortalCatalog, portal_app, portal_settings
from tests.integration.portal.html import parse

TOKEN = "portal-reader-token-0123456789"


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/catalog?kind=spaceship", 400, "kind: 'spaceship' is not a kind of the catalog (Product, Team,"),
        ("/catalog?filter=%3Dvalue", 400, "filter: '=value' is not a valid statement"),
        ("/catalog?cursor=not-a-cursor", 400, "cursor: malformed cursor"),
        ("/catalog?owner=team%3A", 400, "owner:"),
        ("/catalog?limit=many", 400, "limit: 'many' is not a page size"),
        ("/catalog/spaceship/default/x", 404, "there is no kind 'spaceship' in the catalog"),
        ("/catalog/product/default/ghost", 404, "there is no product named 'ghost' in namespace 'default'"),
        ("/scorecards/ghost", 404, "no scorecard named 'ghost'"),
        ("/scorecards/product-readiness?level=platinum", 400, "level: 'platinum' is not a level"),
        ("/scorecards/product-readiness?cursor=eyJ4IjoxfQ", 400, "cursor:"),
        ("/scorecards?cursor=%%%", 400, "cursor:"),
        ("/gaps?type=bogus", 400, "type: 'bogus' is not a gap type"),
        ("/gaps?cursor=eyJrIjoicG9ydGFsLWdhcHMiLCJhZnRlciI6WzEsMiwzXX0", 400, "cursor: malformed cursor"),
        ("/teams/ghost", 404, "no Team or Group named 'ghost'"),
        ("/teams/checkout-team?namespace=a/b", 400, "namespace:"),
        ("/repositories/4242", 404, "no repository with id 4242"),
        ("/repositories/99999999999999999999999", 404, "no repository with id"),
        ("/repositories?state=sleepy", 400, "state: 'sleepy' is not a state"),
        ("/catalog?q=%00", 400, "NUL characters are not allowed"),
    ],
)
def test_bad_links_get_a_helpful_html_page(client: FlaskClient, url: str, status: int, says: str) -> None:
    response = client.get(url)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = parse(response.data)
    assert says in page.text
    assert "Traceback" not in page.text
    assert page.href("Back to the overview") == "/"
    assert page.title.startswith(str(status))


def test_a_cursor_of_another_list_is_refused(client: FlaskClient) -> None:
    gaps = parse(client.get("/gaps?limit=2").data)
    cursor = gaps.href("Next page").split("cursor=")[1]
    response = client.get(f"/repositories?cursor={cursor}")
    assert response.status_code == 400
    assert "this cursor does not belong to the portal-repositories list" in parse(response.data).text


def test_the_api_still_answers_json(client: FlaskClient) -> None:
    response = client.get("/api/catalog/entities/by-name/product/default/ghost")
    assert response.status_code == 404
    assert response.json is not None
    assert response.json["error"]["name"] == "NotFoundError"


CHROMIUM_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
    "application/signed-exchange;v=b3;q=0.7"
)


@pytest.mark.parametrize(
    "url",
    [
        "/catalog/product/default/web%2Fshop",
        "/catalog/product/default/%2F",
        "/catalog/product/team%2Fa/web-shop",
        "/teams/checkout%2Fteam",
        "/scorecards/product%2Freadiness",
        "/initiatives/a%2Fb",
    ],
)
def test_a_name_with_an_encoded_slash_is_a_404_page_for_a_browser_and_json_for_a_client(
    client: FlaskClient, url: str
) -> None:
    page = client.get(url, headers={"Accept": CHROMIUM_ACCEPT})
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    shown = parse(page.data)
    assert shown.title.startswith("404")
    assert "There is no page at" in shown.text
    assert shown.href("Back to the overview") == "/"
    answer = client.get(url, headers={"Accept": "application/json"})
    assert answer.status_code == 404
    assert answer.json is not None
    assert answer.json["error"]["name"] == "NotFoundError"


def test_pages_are_not_in_the_openapi_description(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").json["paths"]  # type: ignore[index]  # the description is JSON
    assert all(path.startswith(("/api", "/healthz", "/readyz", "/metrics")) for path in paths)


@pytest.fixture
def guarded(portal_catalog: PortalCatalog) -> Iterator[Flask]:
    """The same catalog served with ``api.read_requires_token``."""
    settings = portal_settings(portal_catalog.root, read_requires_token=True)
    app, engine = portal_app(settings)
    yield app
    engine.dispose()


def test_pages_need_a_token_when_reads_do(guarded: Flask) -> None:
    client = guarded.test_client()
    refused = client.get("/catalog")
    assert refused.status_code == 401
    assert refused.mimetype == "text/html"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    text = parse(refused.data).text
    assert "A token is needed to read the catalog" in text
    assert "missing bearer token" in text
    assert "api.read_requires_token" in text
    wrong = client.get("/catalog", headers={"Authorization": "Bearer wrong-token-0123456789"})
    assert wrong.status_code == 401
    assert "invalid bearer token" in parse(wrong.data).text
    allowed = client.get("/catalog", headers={"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code == 200
    assert "Acme Web Shop" in parse(allowed.data).text


def test_an_unreachable_database_gets_a_503_page(portal_catalog: PortalCatalog, tmp_path: Path) -> None:
    settings = replace(portal_catalog.settings, database=f"sqlite:///{tmp_path / 'missing' / 'catalog.db'}")
    engine = open_engine(settings.database)
    app = build_app(settings, engine)
    try:
        for url in ("/", "/catalog", "/gaps", "/catalog/product/default/web-shop"):
            response = app.test_client().get(url)
            assert response.status_code == 503, url
            text = parse(response.data).text
            assert "The catalog is unavailable" in text
            assert "try again shortly" in text
    finally:
        engine.dispose()
