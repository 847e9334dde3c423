"""What ``POST /api/repositories`` accepts: public hosts only (unless allowed), no credentials, each
repository once whatever the spelling of its URL, and no more than ``sync.max_registered_repositories``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.api.conftest import AUTH
from tests.integration.api.test_catalog_query import assert_backstage_error

FLEET = 5
"""Repositories the shared catalog holds before any registration."""


def register(client: FlaskClient, url: str, branch: str | None = None) -> Any:
    body: dict[str, str] = {"url": url, **({"branch": branch} if branch else {})}
    return client.post("/api/repositories", json=body, headers=AUTH)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/acme/a.git",
        "https://127.1.2.3:8443/acme/a.git",
        "https://localhost/acme/a.git",
        "http://169.254.169.254/latest/meta-data",
        "https://10.0.0.7/acme/a.git",
        "https://172.16.5.4/acme/a.git",
        "https://192.168.1.1/acme/a.git",
        "https://100.64.0.1/acme/a.git",
        "https://0.0.0.0/acme/a.git",
        "https://224.0.0.1/acme/a.git",
        "https://[::1]/acme/a.git",
        "https://[fd00::1]/acme/a.git",
        "https://[fe80::1]/acme/a.git",
        "https://[::ffff:127.0.0.1]/acme/a.git",
        "https://2130706433/acme/a.git",
        "https://0x7f.1/acme/a.git",
        "ssh://git@10.1.2.3/acme/a.git",
        "git@192.168.0.9:acme/a.git",
        "git@[::1]:acme/a.git",
        "[::1]:acme/a.git",
        "[git@127.0.0.1]:acme/a.git",
        "[localhost:22]:acme/a.git",
    ],
)
def test_a_host_that_is_not_public_is_refused_naming_the_setting(
    make_app: Callable[..., Flask], url: str
) -> None:
    client = make_app(sync={"allowed_protocols": ("https", "http", "ssh")}).test_client()
    response = register(client, url)
    assert_backstage_error(response, 400, "InputError", mentions="sync.allowed_private_networks")
    assert "not public" in response.get_json()["error"]["message"]
    assert client.get("/api/repositories").get_json()["totalItems"] == FLEET


def test_allowed_private_networks_let_a_network_or_a_host_name_through(
    make_app: Callable[..., Flask],
) -> None:
    allowed = ("10.20.0.0/16", "localhost", "::1/128")
    client = make_app(sync={"allowed_private_networks": allowed}).test_client()
    for url in ("https://10.20.1.2/acme/a.git", "https://localhost/acme/b.git", "https://[::1]/acme/c.git"):
        assert register(client, url).status_code == 201, url
    assert_backstage_error(register(client, "https://10.21.0.1/acme/d.git"), 400, "InputError")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://alice:S3C'RET@git.example.com/r.git", "a password"),
        ("https://alice:@git.example.com/r.git", "a password"),
        ("https://git.example.com/r.git?pass=S3CRET", "'pass'"),
        ("https://git.example.com/r.git?jwt=ey.S3CRET.x", "'jwt'"),
        ("https://git.example.com/r.git?X-Amz-Signature=S3CRET", "'X-Amz-Signature'"),
        ("https://ghp_S3CRETS3CRETS3CRETS3CRET@github.com/r.git", "a token as its user name"),
        (" https://alice:S3CRET@git.example.com/r.git", "a password"),
        ("\thttps://alice:S3CRET@git.example.com/r.git", "a password"),
        ("x https://alice:S3CRET@git.example.com/r.git", "a password"),
        ("https://git.example.com/r.git;jsessionid=S3CRET", "'jsessionid'"),
        ("https://git.example.com/acme;token=S3CRET/r.git", "'token'"),
    ],
)
def test_credentials_in_a_registered_url_are_refused_with_where_they_belong(
    writable: FlaskClient, url: str, kind: str
) -> None:
    response = register(writable, url)
    assert_backstage_error(response, 400, "InputError", mentions="credential helper")
    text = response.get_data(as_text=True)
    assert kind in text
    assert "S3C" not in text
    assert writable.get("/api/repositories").get_json()["totalItems"] == FLEET


@pytest.mark.parametrize(
    "url",
    ["gitlab:gitlab.example.com:9", "GitHub:api.github.com:7", "github:acme/pay.git", "gitlab:1"],
)
def test_a_url_stored_in_the_form_of_a_hosted_sources_key_is_refused(
    make_app: Callable[..., Flask], url: str
) -> None:
    """An ssh URL written scp-like to a host alias named github or gitlab is stored (and keyed) as
    ``github:...`` or ``gitlab:...``, the form of a github or gitlab source's keys: a delivery for that
    host's repository id would read or orphan it, a source listing that repository would leave it out
    as held elsewhere, and its files would be linked as a GitLab project's. The ssh:// form is taken."""
    client = make_app(sync={"allowed_protocols": ("https", "ssh")}).test_client()
    response = register(client, url)
    assert_backstage_error(response, 400, "InputError", mentions="ssh://")
    assert client.get("/api/repositories").get_json()["totalItems"] == FLEET
    assert register(client, "ssh://gitlab/acme/pay.git").status_code == 201


def test_spellings_of_one_repository_register_once(writable: FlaskClient) -> None:
    first = register(writable, "https://git.example.com/acme/billing.git")
    assert first.status_code == 201, first.get_data(as_text=True)
    created = first.get_json()
    for variant in (
        "HTTPS://Git.Example.COM/acme/billing.git",
        "https://git.example.com:443/acme/billing.git",
        "https://git.example.com/acme/billing.git/",
        "https://git.example.com/acme/billing",
        "https://git.example.com//acme//billing.git",
        "https://git.example.com/acme/billing.git#readme",
        "https://git.example.com/acme/billing.git?ref=x",
        "https://git.example.com/acme/./billing.git",
        "https://git.example.com/acme/tools/../billing.git",
        "https://git.example.com/acme/bi%6Cling.git",
        "https://git.example.com/%61cme/billing.git",
        "https://@git.example.com/acme/billing.git",
        "https://alice@git.example.com/acme/billing.git",  # over http a user name only picks a credential
    ):
        again = register(writable, variant)
        assert_backstage_error(again, 409, "ConflictError", mentions=f"as repository {created['id']}")
    other_branch = register(writable, "https://git.example.com/acme/billing", "release")
    assert other_branch.status_code == 201
    assert writable.get("/api/repositories").get_json()["totalItems"] == FLEET + 2


def test_a_registered_url_is_stored_in_one_spelling(writable: FlaskClient) -> None:
    response = register(writable, "HTTPS://Git.Example.COM:443//acme/tools.git/#x")
    assert response.status_code == 201
    assert response.get_json()["url"] == "https://git.example.com/acme/tools.git"


@pytest.mark.parametrize(
    "url",
    [
        "https://git.example.com:99999/acme/a.git",
        "https://git.example.com:x/acme/a.git",
        "https://git.example.com:0/acme/a.git",
        "https://git.example.com:00/acme/a.git",
        "ssh://git@git.example.com:0/acme/a.git",
        "[git.example.com:0]:acme/a.git",
    ],
)
def test_a_port_that_cannot_be_one_is_refused_not_dropped(writable: FlaskClient, url: str) -> None:
    """Dropping the port would register another endpoint than the one asked for; no host serves port 0,
    so a registration naming it would fail at every pass."""
    response = register(writable, url)
    assert_backstage_error(response, 400, "InputError", mentions="port is not a number from 1 to 65535")
    assert writable.get("/api/repositories").get_json()["totalItems"] == FLEET


def test_registrations_stop_at_the_limit_with_a_clear_conflict(make_app: Callable[..., Flask]) -> None:
    client = make_app(sync={"max_registered_repositories": 2}).test_client()
    for name in ("a", "b"):
        assert register(client, f"https://git.example.com/acme/{name}.git").status_code == 201
    refused = register(client, "https://git.example.com/acme/c.git")
    assert_backstage_error(
        refused, 409, "ConflictError", mentions="sync.max_registered_repositories allows 2"
    )
    assert client.get("/api/repositories").get_json()["totalItems"] == FLEET + 2


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://b\u00fccher.example/acme/a.git", "xn--"),
        ("https://git%2Eexample.com/acme/a.git", "xn--"),
        ("https:///acme/a.git", "names no host"),
        ("ssh:///acme/a.git", "names no host"),
        ("ssh://", "names no host"),
        ("git@:acme/a.git", "names no host"),
        ("https://[v1.x]/acme/a.git", "IPv6"),
        ("https://[2606:4700::1111]x/acme/a.git", "IPv6"),
    ],
)
def test_a_host_git_would_not_reach_as_checked_is_refused(
    make_app: Callable[..., Flask], url: str, reason: str
) -> None:
    """Each was stored (``ssh:///a.git`` rewritten to the scp-like ``ssh:/a.git``, a host named ``ssh``;
    ``[v1.x]`` to the name ``v1.x``), or checked under another name than the one git looks up."""
    client = make_app(sync={"allowed_protocols": ("https", "ssh")}).test_client()
    response = register(client, url)
    assert_backstage_error(response, 400, "InputError", mentions=reason)
    assert client.get("/api/repositories").get_json()["totalItems"] == FLEET


@pytest.mark.parametrize(
    "suffix",
    [" ", "\u00a0", "\u200b", "\ufeff", "\u2028", "\u3000"],
    ids=["space", "nbsp", "zwsp", "bom", "ls", "ideo"],
)
def test_a_url_holding_a_space_or_an_invisible_character_is_refused(
    writable: FlaskClient, suffix: str
) -> None:
    """Pasted with the URL, such a character made another registration of a repository registered already
    (its spelling differs), one git reads as another path; at the start, a space made ``https://...``
    an scp-like ssh address of the host `` https``."""
    assert register(writable, "https://git.example.com/acme/a.git").status_code == 201
    for url in (f"https://git.example.com/acme/a.git{suffix}", f"{suffix}https://git.example.com/acme/b.git"):
        response = register(writable, url)
        assert_backstage_error(response, 400, "InputError", mentions="a space or an invisible character")
    assert writable.get("/api/repositories").get_json()["totalItems"] == FLEET + 1


@pytest.mark.parametrize(
    "url",
    ["https://git.example.com\\@mirror.example.net/acme/a.git", "https://git.example.com/acme\\..\\b.git"],
)
def test_a_url_holding_a_backslash_is_refused(writable: FlaskClient, url: str) -> None:
    """git (curl) reads ``host\\@other`` as a user name and the host ``other``; a browser reads the
    backslash as ``/``, so the link the catalog shows for the repository's files (and its
    ``backstage.io/managed-by-location``) would lead to ``host`` while its entities came from ``other``."""
    response = register(writable, url)
    assert_backstage_error(response, 400, "InputError", mentions="backslash")
    assert writable.get("/api/repositories").get_json()["totalItems"] == FLEET


def test_the_spellings_git_has_for_ssh_register_one_repository(writable: FlaskClient) -> None:
    first = register(writable, "ssh://git@git.example.com/acme/tools.git")
    assert first.status_code == 201, first.get_data(as_text=True)
    for variant in (
        "git+ssh://git@git.example.com/acme/tools.git",
        "SSH+GIT://git@git.example.com:22/acme/tools",
    ):
        again = register(writable, variant)
        assert_backstage_error(
            again, 409, "ConflictError", mentions=f"as repository {first.get_json()['id']}"
        )
    assert writable.get("/api/repositories").get_json()["totalItems"] == FLEET + 1
