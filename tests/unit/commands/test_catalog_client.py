"""What ``validate --catalog`` accepts as a catalog's address, and how it shows one."""

from __future__ import annotations

import pytest

from catalog_sync.commands.catalog_client import check_catalog_url, shown_url
from catalog_sync.errors import CatalogUnreachableError


def test_an_http_address_is_kept_without_its_trailing_slash() -> None:
    assert check_catalog_url("https://catalog.example.com/") == "https://catalog.example.com"
    assert check_catalog_url("http://127.0.0.1:8080/catalog") == "http://127.0.0.1:8080/catalog"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "catalog.example.com",
        "ftp://c.example.com",
        "http://",
        "https://c/ x",
        "https://c/?q=1",
    ],
)
def test_what_cannot_be_a_catalogs_address_is_refused(url: str) -> None:
    with pytest.raises(CatalogUnreachableError):
        check_catalog_url(url)


def test_credentials_are_never_shown() -> None:
    assert shown_url("https://ann:hunter2@catalog.example.com/x") == "https://***@catalog.example.com/x"
    assert shown_url("https://catalog.example.com") == "https://catalog.example.com"
