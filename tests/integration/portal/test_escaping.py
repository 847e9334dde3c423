"""Descriptors are written by anyone with a repository: whatever they hold is shown as text, never run.

The ``hostile-shop`` product's title is a ``<script>``, its description an ``<img onerror>``, an
annotation holds markup and its links and runbooks point at ``javascript:`` URLs.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.integration.portal.conftest import IMG_DESCRIPTION, SCRIPT_TITLE
from tests.integration.portal.html import Page, parse

PAGES_SHOWING_IT = (
    "/catalog/product/default/hostile-shop",
    "/catalog?owner=checkout-team",
    "/catalog?q=hostile",
    "/teams/checkout-team",
    "/scorecards/product-readiness",
)


def get(client: FlaskClient, url: str) -> tuple[Page, str]:
    response = client.get(url)
    assert response.status_code == 200
    return parse(response.data), response.get_data(as_text=True)


@pytest.mark.parametrize("url", PAGES_SHOWING_IT)
def test_markup_from_descriptors_is_never_markup_in_the_page(client: FlaskClient, url: str) -> None:
    page, body = get(client, url)
    assert page.scripts == 0
    assert not [tag for tag, _ in page.elements if tag in ("img", "b")]
    assert "<script>alert" not in body
    assert "<img src=x" not in body
    hrefs = [attrs.get("href") or "" for _, attrs in page.elements]
    assert not [href for href in hrefs if href.strip().lower().startswith("javascript:")]
    assert not [attrs for _, attrs in page.elements if any(name.startswith("on") for name in attrs)]


def test_hostile_title_and_description_are_shown_as_text(client: FlaskClient) -> None:
    page, body = get(client, "/catalog/product/default/hostile-shop")
    assert page.title.startswith(SCRIPT_TITLE)
    assert SCRIPT_TITLE in page.text
    assert IMG_DESCRIPTION in page.text
    assert "&lt;script&gt;alert(" in body
    assert "<b>bold</b>" in page.text  # the annotation, as written


def test_only_web_and_mail_links_become_links(client: FlaskClient) -> None:
    page, _ = get(client, "/catalog/product/default/hostile-shop")
    assert page.hrefs("Click <me>") == []
    assert "Click <me> (javascript:alert(document.cookie))" in page.text
    assert page.href("Real docs") == "https://docs.example.com/hostile"
    assert page.hrefs("javascript:alert(3)") == []
    assert "<script>alert(2)</script>" in page.text  # the runbook's title, as text


def test_catalog_row_shows_the_hostile_title_as_text(client: FlaskClient) -> None:
    page, _ = get(client, "/catalog?q=hostile")
    assert page.href(SCRIPT_TITLE) == "/catalog/product/default/hostile-shop"
