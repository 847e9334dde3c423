"""Which repository URLs reach git, and that credentials never leave in text we show."""

from __future__ import annotations

import pytest

from catalog_sync.errors import ProtocolNotAllowedError
from catalog_sync.sources.urls import check_url, redact, transport_of

DEFAULT = ("https", "ssh", "file")


@pytest.mark.parametrize(
    ("url", "transport"),
    [
        ("https://git.example.com/acme/payments.git", "https"),
        ("HTTPS://git.example.com/acme/payments.git", "https"),
        ("http://git.example.com/a.git", "http"),
        ("ssh://git@git.example.com/acme/payments.git", "ssh"),
        ("git+ssh://git@git.example.com/acme/payments.git", "ssh"),
        ("git@github.com:acme/payments.git", "ssh"),
        ("github.com:acme/payments.git", "ssh"),
        ("git://git.example.com/a.git", "git"),
        ("file:///srv/git/a.git", "file"),
        ("/srv/git/a.git", "file"),
        ("./repos/a", "file"),
        ("repos/a:b", "file"),
        ("ext::sh -c touch% /tmp/pwned", "ext"),
        ("fd::17", "fd"),
        ("https::example.com/a", "https"),
        ("gopher://example.com/a", "gopher"),
    ],
)
def test_transport_is_decided_the_way_git_decides_it(url: str, transport: str) -> None:
    assert transport_of(url) == transport


@pytest.mark.parametrize(
    "url",
    [
        "https://git.example.com/acme/payments.git",
        "ssh://git@git.example.com/acme/payments.git",
        "git@github.com:acme/payments.git",
        "file:///srv/git/a.git",
        "/srv/git/a.git",
        "https://[::1]:8443/a.git",
    ],
)
def test_allowed_urls_pass_unchanged(url: str) -> None:
    assert check_url(url, DEFAULT) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ext::sh -c touch% /tmp/pwned", "remote helper"),
        ("fd::17", "remote helper"),
        ("https::git.example.com/a", "remote helper"),
        ("--upload-pack=touch /tmp/x", "option"),
        ("-oProxyCommand=touch /tmp/x", "option"),
        ("ssh://-oProxyCommand=touch%20x/a", "option"),
        ("git@-oProxyCommand=x:a.git", "option"),
        ("https://git.example.com/a.git\nfile:///etc", "control characters"),
        ("https://git.example.com/a\x00.git", "control characters"),
        ("gopher://example.com/a", "unknown transport"),
        ("git://git.example.com/a.git", "not in sync.allowed_protocols"),
        ("http://git.example.com/a.git", "not in sync.allowed_protocols"),
        ("", "empty"),
    ],
)
def test_dangerous_or_unlisted_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(ProtocolNotAllowedError, match=reason):
        check_url(url, DEFAULT)


def test_local_paths_and_file_urls_need_file_to_be_allowed() -> None:
    for url in ("file:///srv/git/a.git", "/srv/git/a.git", "../a"):
        with pytest.raises(ProtocolNotAllowedError, match="'file'"):
            check_url(url, ("https", "ssh"))


def test_scp_like_addresses_count_as_ssh() -> None:
    with pytest.raises(ProtocolNotAllowedError, match="'ssh'"):
        check_url("git@github.com:acme/a.git", ("https",))


def test_refusal_message_does_not_carry_credentials() -> None:
    with pytest.raises(ProtocolNotAllowedError) as caught:
        check_url("http://bob:hunter2@git.example.com/a.git", DEFAULT)
    assert "hunter2" not in str(caught.value)
    assert "http://bob:***@git.example.com/a.git" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://user:token@host/a.git", "https://user:***@host/a.git"),
        ("https://ghp_abcdef@github.com/a.git", "https://***@github.com/a.git"),
        (
            "fatal: unable to access 'https://u:p%40ss@git.example.com/a/': Could not resolve host",
            "fatal: unable to access 'https://u:***@git.example.com/a/': Could not resolve host",
        ),
        ("https://host/a.git?private_token=abc123&x=1", "https://host/a.git?private_token=***&x=1"),
        ("https://host/api?access_token=abc123", "https://host/api?access_token=***"),
        ("ssh://git@host/a.git", "ssh://git@host/a.git"),
        ("ssh://git:pw@host/a.git", "ssh://git:***@host/a.git"),
        ("git@github.com:acme/a.git", "git@github.com:acme/a.git"),
        ("no url here", "no url here"),
        ("two https://a:b@h1/x and http://c:d@h2/y", "two https://a:***@h1/x and http://c:***@h2/y"),
        ("Authorization: token ghp_0123456789abcdefABCDEF0123", "Authorization: token ***"),
        ("token_env gave github_pat_11ABCDEFG0123456789_abcdefXYZ", "token_env gave ***"),
        ("glpat-abcdefghij0123456789 expired", "*** expired"),
        ("the ghp_ prefix alone is no token", "the ghp_ prefix alone is no token"),
    ],
)
def test_redact_removes_credentials_from_any_text(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "source 'pay': https://host/a.git?private_token=glpat-abcdefghij0123456789: git ls-remote failed",
        "https://u:p@host/a.git?access_token=abc&sig=xyz",
        "Authorization: token ghp_0123456789abcdefABCDEF0123",
    ],
)
def test_redacting_twice_changes_nothing_more(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
    assert redact(f"{once}: while reading") == f"{once}: while reading"
