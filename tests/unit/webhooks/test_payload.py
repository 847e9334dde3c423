"""Reading a delivery's fields: the host, the id and the commit a push names, and a rename followed in
the names and URLs the catalog shows."""

from __future__ import annotations

import pytest

from catalog_sync.config.hosts import canonical_api_url
from catalog_sync.sources.githubhosts import github_api_netloc
from catalog_sync.sources.gitlabprojects import api_netloc
from catalog_sync.store.lifecycle_writes import moved
from plugin_api.webhooks.gitlab import instance_host
from plugin_api.webhooks.payload import PayloadError, branch_of, commit, host_id, netloc


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/pay", "api.github.com"),
        ("https://api.github.com/repos/acme/pay", "api.github.com"),
        ("https://GHE.Example.com/acme/pay", "ghe.example.com"),
        ("http://ghe.example.com:8443/api/v3/repos/acme/pay", "ghe.example.com:8443"),
        ("https://user:pw@ghe.example.com/acme/pay", "ghe.example.com"),
        # GitHub Enterprise Cloud with data residency: pages on acme.ghe.com, the API on api.acme.ghe.com
        ("https://acme.ghe.com/acme/pay", "api.acme.ghe.com"),
        ("https://ACME.ghe.com/acme/pay", "api.acme.ghe.com"),
        ("https://api.acme.ghe.com/repos/acme/pay", "api.acme.ghe.com"),
        ("https://ghe.com/acme/pay", "ghe.com"),
        ("https://x.acme.ghe.com/acme/pay", "x.acme.ghe.com"),
    ],
)
def test_the_host_of_a_delivery_is_its_apis_netloc(url: str, expected: str) -> None:
    assert netloc({"repository": {"url": url}}, "repository.url", api=github_api_netloc) == expected


@pytest.mark.parametrize(
    ("api_url", "web_url"),
    [
        ("https://[fd00::1]:8443/api/v4", "https://[FD00::1]:8443/acme/ledger"),
        ("https://[fd00::1]/api/v4", "https://[fd00::1]/acme/ledger"),
        ("https://GitLab.Example.com:8443/api/v4", "https://gitlab.example.com:8443/acme/ledger"),
        ("https://gitlab.example.com/api/v4", "https://gitlab.example.com:443/acme/ledger"),
        ("https://gitlab.example.com:443/api/v4", "https://gitlab.example.com:0443/acme/ledger"),
        ("http://gitlab.example.com/api/v4", "http://gitlab.example.com:80/acme/ledger"),
        ("http://gitlab.example.com:443/api/v4", "http://gitlab.example.com:443/acme/ledger"),
    ],
)
def test_a_delivery_names_the_host_as_the_sources_keys_do(api_url: str, web_url: str) -> None:
    """A GitLab on an IPv6 address keys its projects ``gitlab:[addr]:port:id``: a push must name the same."""
    configured = canonical_api_url(api_url)  # as the settings hold it
    assert netloc({"project": {"web_url": web_url}}, "project.web_url") == api_netloc(configured)
    assert instance_host(web_url.rsplit("/", 2)[0]) == api_netloc(configured)  # X-Gitlab-Instance


@pytest.mark.parametrize("url", ["ftp://github.com/a", "file:///etc/passwd", "https://", "https://[::1"])
def test_a_url_that_names_no_http_host_is_refused(url: str) -> None:
    with pytest.raises(PayloadError, match=r"repository\.url"):
        netloc({"repository": {"url": url}}, "repository.url")


def test_ids_commits_and_refs_are_read_strictly() -> None:
    assert host_id({"repository": {"id": 42}}, "repository.id") == "42"
    assert host_id({"project_id": 7}, "project.id", "project_id") == "7"
    for bad in ("42", 4.2, True, 0, None):
        with pytest.raises(PayloadError):
            host_id({"repository": {"id": bad}}, "repository.id")
    assert commit({"after": "a" * 40}, "after") == "a" * 40
    assert commit({"after": "b" * 64}, "after") == "b" * 64
    assert commit({"after": "0" * 40}, "after") is None
    with pytest.raises(PayloadError, match="after"):
        commit({"after": "a" * 39}, "after")
    assert branch_of("refs/heads/release/1.x") == "release/1.x"
    assert branch_of("refs/tags/v1") is None
    assert branch_of("refs/heads/") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme/pay", "platform/payments"),
        ("https://github.com/acme/pay.git", "https://github.com/platform/payments.git"),
        ("https://github.com/ACME/Pay", "https://github.com/platform/payments"),
        ("git@github.com:acme/pay.git", "git@github.com:platform/payments.git"),
        ("https://github.com/acme/pay-extra.git", "https://github.com/acme/pay-extra.git"),
        ("https://github.com/other/acme/pay/tree", "https://github.com/other/acme/pay/tree"),
    ],
)
def test_a_move_replaces_the_old_path_only_where_it_stands_whole(value: str, expected: str) -> None:
    assert moved(value, "acme/pay", "platform/payments") == expected
