"""The web page a listing names for a repository: linked by the catalog, so it must stay on the host."""

from __future__ import annotations

import pytest

from catalog_sync.sources.githubhosts import git_origin
from catalog_sync.sources.hostanswer import on_origin, web_page

ORIGIN = "https://github.example:8443"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{ORIGIN}/acme/payments", f"{ORIGIN}/acme/payments"),
        (f"{ORIGIN}/acme/pay.ments-2_x~y", f"{ORIGIN}/acme/pay.ments-2_x~y"),
        (f"{ORIGIN}/acme/payments?tab=readme#top", f"{ORIGIN}/acme/payments"),
        (f"{ORIGIN}/acme/%70ayments", f"{ORIGIN}/acme/%70ayments"),
        ("https://GITHUB.example:8443/acme/payments", "https://GITHUB.example:8443/acme/payments"),
        (f"{ORIGIN}/acme/ghp_{'a' * 36}", f"{ORIGIN}/acme/***"),
        ("https://github.example:84430/acme/payments", None),
        ("https://github.example:8443.evil.example/acme/payments", None),
        ("https://github.example:8443@evil.example/acme/payments", None),
        ("https://evil.example\\@github.example:8443/acme/payments", None),
        ("http://github.example:8443/acme/payments", None),
        ("javascript:alert(1)", None),
        (f"{ORIGIN}/acme/pay\nments", None),
    ],
)
def test_a_page_is_kept_only_on_the_hosts_origin_without_query_or_fragment(
    url: str, expected: str | None
) -> None:
    assert web_page(url, ORIGIN) == expected


def test_an_origin_that_is_no_web_origin_names_no_page() -> None:
    assert web_page("ssh://github.example/acme/payments", "ssh://github.example") is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{ORIGIN}/acme/payments.git", True),
        ("https://GITHUB.example:8443/acme/payments.git", True),
        (f"{ORIGIN}/acme/pay%20ments.git", True),
        ("https://github.example/acme/payments.git", False),
        ("https://github.example:8443.evil.example/acme/payments.git", False),
        ("https://github.example:8443@evil.example/acme/payments.git", False),
        ("https://evil.example\\@github.example:8443/acme/payments.git", False),
        ("ssh://git@github.example:8443/acme/payments.git", False),
    ],
)
def test_a_clone_url_is_on_the_origin_only_where_its_scheme_host_and_port_are(
    url: str, expected: bool
) -> None:
    assert on_origin(url, ORIGIN) is expected


def test_an_enterprise_server_at_an_ipv6_address_has_its_pages_and_clone_urls_on_its_origin() -> None:
    origin = git_origin("http://[::1]:8080/api/v3")
    assert origin == "http://[::1]:8080"
    assert web_page("http://[::1]:8080/acme/payments", origin) == "http://[::1]:8080/acme/payments"
    assert web_page("http://[::1]:8080/acme/payments?tab=1", origin) == "http://[::1]:8080/acme/payments"
    assert on_origin("http://[::1]:8080/acme/payments.git", origin)
    assert on_origin("http://::1:8080/acme/payments.git", origin) is False
    assert on_origin("http://[::1]:8081/acme/payments.git", origin) is False


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example:99999/acme/payments.git",
        "http://evil.example]/acme/payments.git",
        "http://evil.example\\@[::1]:8080/acme/payments.git",
    ],
)
def test_a_clone_url_that_does_not_parse_is_on_no_origin_even_one_that_does_not_either(url: str) -> None:
    assert on_origin(url, "http://::1:8080") is False
