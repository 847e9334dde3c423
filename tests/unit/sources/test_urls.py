"""Which repository URLs reach git, and that credentials never leave in text we show."""

from __future__ import annotations

import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from catalog_sync.credentials import credential_in_url
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
        ("ssh://[-oProxyCommand=x]/a", "option"),
        ("ssh://git@[-oProxyCommand=x]:22/a", "option"),
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


UNICODE = "s\u00e9\u0441\u0435\u043a\u0440\u0435\u0442\u79d8\u5bc6\U0001f511"
HOSTILE = "'\"< >@%40:;?#&=!$*()[]{}|\\^`~\n\r\t" + UNICODE
"""Characters a password may hold that a character class once stopped at: quotes, '<', spaces, '@'
(bare and encoded), newlines, unicode. Only '/' is left out: git itself reads it as the start of the
path, so no working URL holds one in its password."""

passwords = st.text(alphabet=st.sampled_from(HOSTILE + "aZ09._-+"), min_size=1, max_size=40)
secret_values = st.text(alphabet=st.sampled_from("'\"<>@%:;!$*()[]|^`~aZ09._-+=" + UNICODE), min_size=1)
SECRET_NAMES = ["token", "access_token", "private_token", "password", "pass", "passwd", "pwd", "secret",
                "key", "api_key", "apikey", "jwt", "sig", "signature", "auth", "credential",
                "X-Amz-Credential", "X-Amz-Signature"]  # fmt: skip
PROPERTIES = settings(max_examples=400, derandomize=True, deadline=None)


@PROPERTIES
@given(password=passwords, user=st.sampled_from(["alice", "x-access-token", "oauth2", ""]))
def test_no_password_survives_whatever_it_holds(password: str, user: str) -> None:
    url = f"https://{user}:{password}@git.example.com/acme/r.git"
    text = f"fatal: unable to access '{url}/': Could not resolve host: git.example.com\n{url} again"
    shown = f"https://{user}:***@git.example.com/acme/r.git"
    expected = f"fatal: unable to access '{shown}/': Could not resolve host: git.example.com\n{shown} again"
    assert redact(text) == expected
    assert redact(expected) == expected
    assert credential_in_url(url) == "a password"


@PROPERTIES
@given(name=st.sampled_from(SECRET_NAMES), value=secret_values, upper=st.booleans())
def test_no_secret_query_value_survives(name: str, value: str, upper: bool) -> None:
    assume(not value.startswith("***"))
    name = name.upper() if upper else name
    url = f"https://git.example.com/r.git?ref=main&{name}={value}&x=1"
    assert (
        redact(f"clone of {url} failed")
        == f"clone of https://git.example.com/r.git?ref=main&{name}=***&x=1 failed"
    )
    assert credential_in_url(url) is not None


@PROPERTIES
@given(password=passwords, value=secret_values, before=st.text(max_size=20), after=st.text(max_size=20))
def test_redacting_is_idempotent_around_any_text(password: str, value: str, before: str, after: str) -> None:
    text = f"{before}https://bob:{password}@h.example/r.git?jwt={value} {after}"
    once = redact(text)
    assert redact(once) == once


@PROPERTIES
@given(password=passwords, before=st.text(max_size=8))
def test_a_url_redaction_would_change_is_refused_as_carrying_credentials(password: str, before: str) -> None:
    url = f"{before}https://alice:{password}@git.example.com/acme/r.git"
    assume(redact(url) != url)
    assert credential_in_url(url) is not None


@pytest.mark.parametrize("colon", ["%3A", "%3a"])
def test_a_password_after_an_encoded_colon_is_refused_and_hidden(colon: str) -> None:
    """Git decodes the user name it reads before the ``@``, so ``alice%3AS3CRET`` reaches the host as
    user and password: it was stored, and shown, as a user name."""
    url = f"https://alice{colon}S3CRET@git.example.com/acme/r.git"
    assert credential_in_url(url) == "a password"
    assert "S3CRET" not in redact(f"fatal: unable to access '{url}/'")


@pytest.mark.parametrize(
    "url",
    [
        "https://git.example.com/acme/r.git;jsessionid=S3CRET",
        "https://git.example.com/acme;token=S3CRET/r.git",
        "https://git.example.com/acme/r.git&private_token=S3CRET",
        "https://git.example.com/acme/r.git#private_token=S3CRET",
    ],
)
def test_a_secret_parameter_outside_the_query_is_refused_as_redaction_hides_it(url: str) -> None:
    """Redaction hides a parameter named like a secret wherever a ``;``, ``&``, ``?`` or ``#`` starts it;
    the refusal must see the same ones, or the URL is stored with the secret and shown with ``***``."""
    assert redact(url) != url
    assert credential_in_url(url) is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://git.example.com/acme/r.git",
        "ssh://git@git.example.com/acme/r.git",
        "git@github.com:acme/r.git",
        "https://alice@git.example.com/acme/r.git",
        "https://git.example.com/acme/r.git?ref=main",
    ],
)
def test_urls_without_credentials_are_told_apart(url: str) -> None:
    assert credential_in_url(url) is None
    assert redact(url) == url


@pytest.mark.parametrize(
    "text",
    [
        "a" * 60_000,  # one long word: every letter could start a scheme
        "glpat-" * 10_000,
        "/api/catalog/entities?filter=" + "x" * 60_000,
        "https://" + "a" * 60_000,
    ],
    ids=["letters", "token-prefixes", "query", "authority"],
)
def test_redacting_a_long_text_takes_time_in_proportion_to_it(text: str) -> None:
    # Any client can make the server redact a long request URL: it must cost milliseconds, not minutes.
    started = time.thread_time()  # CPU time: a busy machine does not change it
    redact(text)
    credential_in_url(text)
    assert time.thread_time() - started < 2.0
