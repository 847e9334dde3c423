"""Notifications through a forward proxy, as a network that reaches the internet only through one
needs: a channel naming ``proxy`` sends through it (with ``proxy_auth_env``'s credentials when it asks
any), a channel naming none goes direct whatever ``https_proxy`` says, and a proxy's 407 is an error
naming ``proxy_auth_env`` that never shows the password, tried again as other failures are."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from catalog_sync.config import NotificationSettings
from catalog_sync.errors import ConfigError
from tests.fixtures.http import make_certificate
from tests.fixtures.proxy import forward_proxy
from tests.fixtures.receivers import receiver
from tests.integration.notify.conftest import (
    DROP,
    SECRET,
    Clock,
    deliverer,
    listed,
    notification_settings,
    write,
)

CREDENTIALS = "notify:pr0xy-Pa55word"
PASSWORD = "pr0xy-Pa55word"
WRONG = "notify:wr0ng-Pa55word"
AUTH_ENV = "OPS_PROXY_AUTH"


def proxied(
    url: str, proxy: str, credentials: str, *, tunnelled: bool, **delivery: Any
) -> NotificationSettings:
    """A channel to ``url`` (in https when ``tunnelled``: through a CONNECT) through ``proxy``, with
    ``credentials`` in ``proxy_auth_env``."""
    return notification_settings(
        url.replace("http://", "https://") if tunnelled else url,
        network={"proxy": proxy, "proxy_auth_env": AUTH_ENV},
        environ={AUTH_ENV: credentials},
        **delivery,
    )


def test_a_channel_with_a_proxy_delivers_through_it(team: Engine, counts: list[Any]) -> None:
    with forward_proxy() as proxy, receiver([200], secret=SECRET) as hook:
        settings = notification_settings(hook.url, network={"proxy": proxy.url})
        write(team, settings, DROP)
        assert deliverer(team, settings, Clock(), counts).run_once() == 1
    assert [(asked.method, asked.target) for asked in proxy.asked] == [("POST", hook.url)]
    (request,) = hook.delivered
    assert request.signature_ok is True
    assert listed(team)[0]["status"] == "delivered"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_channel_without_a_proxy_goes_direct_whatever_the_environment_names(
    team: Engine, counts: list[Any], monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    with forward_proxy() as proxy, receiver([200], secret=SECRET) as hook:
        for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            monkeypatch.setenv(variable, proxy.url)
        for variable in ("no_proxy", "NO_PROXY"):
            monkeypatch.delenv(variable, raising=False)
        # An https URL is tried direct too (the receiver speaks no TLS: the try fails, it is retried).
        settings = notification_settings(hook.url.replace("http://", f"{scheme}://"))
        write(team, settings, DROP)
        deliverer(team, settings, Clock(), counts).run_once()
    assert proxy.asked == []
    assert listed(team)[0]["status"] == ("delivered" if scheme == "http" else "pending")


def test_credentials_from_proxy_auth_env_are_sent_to_the_proxy_and_the_delivery_arrives(
    team: Engine, counts: list[Any]
) -> None:
    with forward_proxy(credentials=CREDENTIALS) as proxy, receiver([200], secret=SECRET) as hook:
        settings = notification_settings(
            hook.url,
            network={"proxy": proxy.url, "proxy_auth_env": AUTH_ENV},
            environ={AUTH_ENV: CREDENTIALS},
        )
        assert PASSWORD not in repr(settings)
        write(team, settings, DROP)
        deliverer(team, settings, Clock(), counts).run_once()
    assert proxy.refused == 0
    assert [asked.method for asked in proxy.asked] == ["POST"]
    (request,) = hook.delivered
    assert "Proxy-Authorization" not in request.headers
    assert listed(team)[0]["status"] == "delivered"


def test_a_proxy_asking_credentials_the_channel_does_not_give_is_named_and_tried_again(
    team: Engine, counts: list[Any]
) -> None:
    with forward_proxy(credentials=CREDENTIALS) as proxy, receiver([200], secret=SECRET) as hook:
        settings = notification_settings(hook.url, network={"proxy": proxy.url}, max_attempts=2)
        write(team, settings, DROP)
        clock = Clock()
        sender = deliverer(team, settings, clock, counts)
        sender.run_once()
        (row,) = listed(team)
        error = (
            f"the proxy {proxy.url} answered 407: it asks for credentials; name the variable holding its "
            "user:password in proxy_auth_env"
        )
        assert (row["status"], row["lastError"]) == ("pending", error)
        clock.advance(10)
        sender.run_once()
    assert hook.requests == []
    assert proxy.refused == 2
    (row,) = listed(team, "failed")
    assert row["lastError"] == f"{error}; gave up after 2 tries"
    assert counts == [("ops", "level_dropped", "retried"), ("ops", "level_dropped", "failed")]


@pytest.mark.parametrize("tunnelled", [False, True], ids=["http", "https-connect"])
def test_credentials_the_proxy_refuses_fail_naming_proxy_auth_env_never_the_password(
    team: Engine, counts: list[Any], caplog: pytest.LogCaptureFixture, tunnelled: bool
) -> None:
    caplog.set_level(logging.DEBUG)
    with forward_proxy(credentials=CREDENTIALS) as proxy, receiver([200], secret=SECRET) as hook:
        # An https receiver is reached through a CONNECT, which the proxy refuses before any host.
        settings = proxied(hook.url, proxy.url, WRONG, tunnelled=tunnelled, max_attempts=1)
        write(team, settings, DROP)
        deliverer(team, settings, Clock(), counts).run_once()
    assert [asked.method for asked in proxy.asked] == ["CONNECT" if tunnelled else "POST"]
    assert proxy.refused == 1
    assert hook.requests == []
    (row,) = listed(team, "failed")
    assert row["lastError"] == (
        f"the proxy {proxy.url} answered 407: it refused the credentials of proxy_auth_env ({AUTH_ENV}); "
        "gave up after 1 tries"
    )
    assert "wr0ng-Pa55word" not in caplog.text
    assert "wr0ng-Pa55word" not in str(listed(team))
    assert f"channel ops failed: {row['lastError']}" in caplog.text


def test_a_proxy_that_is_not_there_is_named_and_tried_again(team: Engine, counts: list[Any]) -> None:
    with forward_proxy() as proxy:
        gone = proxy.url
    with receiver([200], secret=SECRET) as hook:
        settings = notification_settings(
            hook.url,
            network={"proxy": gone, "proxy_auth_env": AUTH_ENV},
            environ={AUTH_ENV: CREDENTIALS},
        )
        write(team, settings, DROP)
        deliverer(team, settings, Clock(), counts).run_once()
    assert hook.requests == []
    (row,) = listed(team)
    assert (row["status"], row["lastError"]) == (
        "pending",
        f"the proxy {gone} could not be reached or refused the tunnel",
    )


@pytest.mark.parametrize("tunnelled", [False, True], ids=["http", "https-connect"])
@pytest.mark.parametrize(
    "password",
    ["p@ss:w/rd#1?x", "pass word", "pässwörd", "pa€€word", "パスワード"],
    ids=["reserved", "space", "latin1", "euro", "japanese"],
)
def test_the_proxy_receives_the_credentials_exactly_as_configured_in_utf_8(
    team: Engine, counts: list[Any], password: str, tunnelled: bool
) -> None:
    # The credentials reach the proxy as git's libcurl sends those of a source: user:password in UTF-8.
    credentials = f"n@tify:{password}"
    with forward_proxy(credentials=credentials) as proxy, receiver([200], secret=SECRET) as hook:
        # Through a CONNECT, the receiver speaks no TLS: the tunnel is opened, then the try is retried.
        settings = proxied(hook.url, proxy.url, credentials, tunnelled=tunnelled)
        write(team, settings, DROP)
        assert deliverer(team, settings, Clock(), counts).run_once() == 1
    assert proxy.refused == 0
    assert [asked.method for asked in proxy.asked] == ["CONNECT" if tunnelled else "POST"]
    assert listed(team)[0]["status"] == ("pending" if tunnelled else "delivered")


def test_a_receiver_the_organisation_s_authority_signed_is_trusted_by_the_channel_s_ca_file(
    team: Engine, counts: list[Any], tmp_path: Path
) -> None:
    authority = make_certificate(tmp_path / "ca")
    with forward_proxy() as proxy, receiver([200], secret=SECRET, tls=authority) as hook:
        unknown = notification_settings(hook.url)
        write(team, unknown, DROP)
        deliverer(team, unknown, Clock(), counts).run_once()
        (refused,) = listed(team)
        assert refused["status"] == "pending"  # tried again: the certificate may be renewed meanwhile
        assert "TLS certificate" in refused["lastError"]
        assert "ca_file" in refused["lastError"]
        assert hook.delivered == []

        trusted = notification_settings(
            hook.url, network={"ca_file": str(authority.cert), "proxy": proxy.url}
        )
        later = Clock()
        later.advance(3600)
        deliverer(team, trusted, later, counts).run_once()
    assert [request.signature_ok for request in hook.delivered] == [True]
    assert listed(team)[0]["status"] == "delivered"
    # Through the proxy's tunnel: it saw the receiver's host and port, never the secret URL's path.
    assert [(asked.method, asked.target) for asked in proxy.asked] == [("CONNECT", hook.url.split("/")[2])]


def test_a_channel_s_ca_file_is_checked_when_the_settings_load(tmp_path: Path) -> None:
    key = make_certificate(tmp_path).key
    for path, fragment in ((tmp_path / "missing.pem", "cannot be read"), (key, "no PEM certificate")):
        with pytest.raises(ConfigError, match=fragment) as refused:
            notification_settings("https://hooks.example/x", network={"ca_file": str(path)})
        assert refused.value.key == "notifications.channels.0.ca_file"
