"""``notifications``: channels whose URL and secret come from the environment and are never shown, and
every bad value refused at start with its key named."""

from __future__ import annotations

from typing import Any

import pytest

from catalog_sync.config import parse_settings
from catalog_sync.errors import ConfigError
from catalog_sync.notify import routes_of

URL = "https://hooks.example.com/services/T000/B000/very-secret-token"
SECRET = "a-signing-secret-of-some-length"
ENV = {"OPS_URL": URL, "OPS_SECRET": SECRET}
PROXY = "http://proxy.example.com:3128"
PASSWORD = "pr0xy-Pa55word"
PROXY_KEY = "notifications.channels.0.proxy"
AUTH_KEY = "notifications.channels.0.proxy_auth_env"


def channel(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": "ops",
        "type": "webhook",
        "url_env": "OPS_URL",
        "secret_env": "OPS_SECRET",
        "events": ["level_dropped", "gap_opened"],
    }
    found.update(changes)
    return {key: value for key, value in found.items() if value is not None}


def load(section: Any, environ: dict[str, str] | None = None) -> Any:
    return parse_settings({"notifications": section}, environ=ENV if environ is None else environ)


def refused(section: Any, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(section, environ)
    assert URL not in str(caught.value)
    assert SECRET not in str(caught.value)
    assert PASSWORD not in str(caught.value)
    return caught.value


def test_a_channel_reads_its_url_and_secret_from_the_environment_and_never_shows_them() -> None:
    settings = load({"channels": [channel()], "max_attempts": 5, "timeout_seconds": 2.5})
    (ops,) = settings.notifications.channels
    assert (ops.url, ops.secret, ops.events) == (URL, SECRET, ("level_dropped", "gap_opened"))
    assert settings.notifications.max_attempts == 5
    assert URL not in repr(settings)
    assert SECRET not in repr(settings)


def test_a_channel_reads_its_proxy_as_a_source_does_and_its_credentials_from_the_environment() -> None:
    section = {"channels": [channel(proxy="HTTPS://Proxy.example.com:3128/", proxy_auth_env="OPS_PROXY")]}
    settings = load(section, {**ENV, "OPS_PROXY": f"'bob:{PASSWORD}'"})
    (ops,) = settings.notifications.channels
    assert (ops.proxy, ops.proxy_auth_env) == ("https://Proxy.example.com:3128", "OPS_PROXY")
    assert ops.proxy_credentials == f"bob:{PASSWORD}"
    assert PASSWORD not in repr(settings)
    (direct,) = load({"channels": [channel()]}).notifications.channels
    assert (direct.proxy, direct.proxy_credentials) == (None, None)


def test_without_the_section_nothing_is_delivered() -> None:
    assert parse_settings({}, environ={}).notifications.channels == ()


@pytest.mark.parametrize(
    ("section", "environ", "key", "words"),
    [
        ({"channels": [channel()]}, {}, "notifications.channels.0.url_env", "OPS_URL is not set"),
        (
            {"channels": [channel()]},
            {"OPS_URL": "ftp://example.com/x", "OPS_SECRET": SECRET},
            "notifications.channels.0.url_env",
            "does not hold an http or https URL",
        ),
        (
            {"channels": [channel()]},
            {"OPS_URL": URL, "OPS_SECRET": "short"},
            "notifications.channels.0.secret_env",
            "at least 16 characters",
        ),
        (
            {"channels": [channel(events=["level_raised"])]},
            ENV,
            "notifications.channels.0.events.0",
            "one of",
        ),
        ({"channels": [channel(events=[])]}, ENV, "notifications.channels.0.events", "at least one"),
        ({"channels": [channel(type="email")]}, ENV, "notifications.channels.0.type", "one of"),
        ({"channels": [channel(url="https://x")]}, ENV, "notifications.channels.0.url", "unknown key"),
        ({"channels": [channel(url_env="OPS URL")]}, ENV, "notifications.channels.0.url_env", "environment"),
        (
            {"channels": [channel(type="slack")]},
            ENV,
            "notifications.channels.0.secret_env",
            "takes no secret",
        ),
        ({"channels": [channel(), channel()]}, ENV, "notifications.channels.1.name", "used twice"),
        ({"channels": [channel(name="")]}, ENV, "notifications.channels.0.name", "match"),
        ({"max_attempts": 0}, ENV, "notifications.max_attempts", "greater than or equal to 1"),
        ({"max_attempts": "3"}, ENV, "notifications.max_attempts", "integer"),
        ({"timeout_seconds": 0}, ENV, "notifications.timeout_seconds", "greater than or equal"),
        ({"timeout_seconds": 3600}, ENV, "notifications.timeout_seconds", "less than or equal"),
        ({"backoff_seconds": True}, ENV, "notifications.backoff_seconds", "number"),
        (
            {"backoff_seconds": 60, "max_backoff_seconds": 30},
            ENV,
            "notifications.max_backoff_seconds",
            "less than backoff_seconds",
        ),
        ({"channels": [channel(proxy="http://proxy.example.com")]}, ENV, PROXY_KEY, "give the proxy's port"),
        ({"channels": [channel(proxy="socks5://proxy:1080")]}, ENV, PROXY_KEY, "http or https proxy"),
        ({"channels": [channel(proxy="http://proxy:3128/path")]}, ENV, PROXY_KEY, "no path"),
        ({"channels": [channel(proxy="http://büro:3128")]}, ENV, PROXY_KEY, "in ASCII"),
        (
            {"channels": [channel(proxy=f"http://bob:{PASSWORD}@proxy:3128")]},
            ENV,
            PROXY_KEY,
            "the proxy URL carries credentials",
        ),
        ({"channels": [channel(proxy_auth_env="OPS_PROXY")]}, ENV, AUTH_KEY, "proxy is not"),
        ({"channels": [channel(proxy=PROXY, proxy_auth_env="OPS PROXY")]}, ENV, AUTH_KEY, "environment"),
        (
            {"channels": [channel(proxy=PROXY, proxy_auth_env="OPS_PROXY")]},
            ENV,
            AUTH_KEY,
            "proxy_auth_env names OPS_PROXY, which is not set in the environment",
        ),
        (
            {"channels": [channel(proxy=PROXY, proxy_auth_env="OPS_PROXY")]},
            {**ENV, "OPS_PROXY": PASSWORD},
            AUTH_KEY,
            "does not hold user:password",
        ),
        (
            {"channels": [channel(proxy=PROXY, proxy_auth_env="OPS_PROXY")]},
            {**ENV, "OPS_PROXY": f"bob:{PASSWORD}\nnext"},
            AUTH_KEY,
            "control character",
        ),
        (
            {"channels": [channel(proxy=PROXY, proxy_auth_env="OPS_PROXY")]},
            {**ENV, "OPS_PROXY": f"bob:{PASSWORD}%41"},
            AUTH_KEY,
            "holds a '%'",
        ),
        ({"channels": "ops"}, ENV, "notifications.channels", "list"),
        ({"colour": "red"}, ENV, "notifications.colour", "unknown key"),
        (
            {"channels": [channel(name=f"c{n}") for n in range(21)]},
            ENV,
            "notifications.channels",
            "at most 20",
        ),
    ],
)
def test_a_bad_value_is_refused_naming_its_key(
    section: Any, environ: dict[str, str], key: str, words: str
) -> None:
    error = refused(section, environ)
    assert error.key == key
    assert words.lower() in error.message.lower()


def test_a_filter_that_does_not_parse_is_refused_at_start_naming_its_key() -> None:
    settings = load({"channels": [channel(filter="spec.tier=1,=oops")]})
    with pytest.raises(ConfigError) as caught:
        routes_of(settings.notifications)
    assert caught.value.key == "notifications.channels.0.filter"


def test_a_route_carries_the_events_and_the_filter_of_its_channel() -> None:
    settings = load({"channels": [channel(filter="kind=product,spec.tier=1")]})
    (route,) = routes_of(settings.notifications)
    assert route.name == "ops"
    assert route.events == frozenset({"level_dropped", "gap_opened"})
    assert route.entity_filter is not None
