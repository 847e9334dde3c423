"""How a hosted source reaches its host: ``proxy``, ``proxy_auth_env`` and ``ca_file``, each refused at
start with its key named when it could not work, on both kinds of hosted source."""

from __future__ import annotations

from typing import Any

import pytest

from catalog_sync.config import GitHubSourceSettings, GitLabSourceSettings, HostNetwork, parse_settings
from catalog_sync.errors import ConfigError


def _sources(**keys: Any) -> list[dict[str, Any]]:
    return [
        {"name": "acme", "type": "github", "org": "acme"} | keys,
        {"name": "acme-gl", "type": "gitlab", "group": "acme"} | keys,
    ]


def test_a_proxy_its_credentials_variable_and_an_authority_are_read_for_both_kinds() -> None:
    network = {"proxy": "http://proxy.acme.internal:3128/", "proxy_auth_env": "PROXY_AUTH"}
    settings = parse_settings({"sources": _sources(**network, ca_file="/etc/ssl/acme-ca.pem")})
    assert [type(source) for source in settings.sources] == [GitHubSourceSettings, GitLabSourceSettings]
    for source in settings.sources:
        assert isinstance(source, GitHubSourceSettings | GitLabSourceSettings)
        assert source.network == HostNetwork(
            proxy="http://proxy.acme.internal:3128",  # the final '/' dropped, as libcurl and git read it
            proxy_auth_env="PROXY_AUTH",
            ca_file="/etc/ssl/acme-ca.pem",
        )


def test_a_source_without_network_keys_goes_direct_trusting_the_bundled_authorities() -> None:
    (source,) = parse_settings({"sources": _sources()[:1]}).sources
    assert isinstance(source, GitHubSourceSettings)
    assert source.network == HostNetwork()


@pytest.mark.parametrize(
    ("keys", "key", "fragment"),
    [
        ({"proxy": "http://ops:secret@proxy:3128"}, "proxy", "proxy_auth_env"),
        ({"proxy": "http://ops@proxy:3128"}, "proxy", "proxy_auth_env"),
        ({"proxy": "socks5://proxy:1080"}, "proxy", "http or https"),
        ({"proxy": "ftp://proxy:21"}, "proxy", "http or https"),
        ({"proxy": "proxy.acme.internal:3128"}, "proxy", "http or https"),
        ({"proxy": "http://proxy.acme.internal"}, "proxy", "1080"),
        ({"proxy": "http://proxy:0"}, "proxy", "port"),
        ({"proxy": "http://proxy:70000"}, "proxy", "not a URL"),
        ({"proxy": "http://proxy:3128/pac"}, "proxy", "no path"),
        ({"proxy": "http://proxy:3128?x=1"}, "proxy", "no path"),
        ({"proxy": "http://proxy:3128#x"}, "proxy", "no path"),
        ({"proxy": "http://"}, "proxy", "no host"),
        ({"proxy": "http://[::1:3128"}, "proxy", "not a URL"),
        ({"proxy": "http://pro xy:3128"}, "proxy", "spaces"),
        ({"proxy": "http://прокси.example:3128"}, "proxy", "xn--"),  # pycurl takes ASCII alone
        ({"proxy": "http://proxy:3128\n"}, "proxy", "control"),
        ({"proxy": ""}, "proxy", "1 to 2000"),
        ({"proxy": "http://" + "p" * 2000 + ":1"}, "proxy", "1 to 2000"),
        ({"proxy": 3128}, "proxy", "Not a valid string"),
        ({"proxy_auth_env": "PROXY_AUTH"}, "proxy_auth_env", "proxy is not"),
        (
            {"proxy": "http://proxy:3128", "proxy_auth_env": "not a name"},
            "proxy_auth_env",
            "environment variable",
        ),
        ({"ca_file": "certs/acme.pem"}, "ca_file", "absolute path"),
        ({"ca_file": ""}, "ca_file", "1 to 4096"),
        ({"ca_file": "/etc/ssl/\x00.pem"}, "ca_file", "printable"),
        ({"ca_file": ["/a.pem"]}, "ca_file", "Not a valid string"),
    ],
)
def test_a_network_key_that_could_not_work_is_refused_naming_it(
    keys: dict[str, Any], key: str, fragment: str
) -> None:
    for source in _sources(**keys):
        with pytest.raises(ConfigError) as refused:
            parse_settings({"sources": [source]})
        assert refused.value.key == f"sources.0.{key}", source["type"]
        assert fragment in str(refused.value)


@pytest.mark.parametrize("kind", ["local", "git"])
def test_a_source_that_is_not_hosted_takes_no_network_key(kind: str) -> None:
    where = {"path": "."} if kind == "local" else {"url": "https://git.example.com/a.git"}
    with pytest.raises(ConfigError, match="unknown key") as refused:
        parse_settings({"sources": [{"name": "a", "type": kind, **where, "proxy": "http://proxy:3128"}]})
    assert refused.value.key.endswith("proxy")


@pytest.mark.parametrize("written", ["HTTPS://proxy.acme.internal:3128", "Https://proxy.acme.internal:3128/"])
def test_a_proxy_s_scheme_written_in_capitals_is_read_in_lower_case(written: str) -> None:
    """libcurl reads the scheme in any case, git does not: it takes a proxy for an https one only when
    ``http.proxy`` starts with ``https`` in lower case, and does not speak TLS to it otherwise (the API
    listing worked and every fetch failed)."""
    for source in parse_settings({"sources": _sources(proxy=written)}).sources:
        assert isinstance(source, GitHubSourceSettings | GitLabSourceSettings)
        assert source.network.proxy == "https://proxy.acme.internal:3128"
