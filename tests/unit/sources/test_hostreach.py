"""A hosted source's way to its host, made ready when the source is built: the proxy's credentials
read from the variable the configuration names, the authorities' file checked, and git told the same.
What is missing or wrong fails the source naming its key and never showing a secret."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from requests.utils import DEFAULT_CA_BUNDLE_PATH

from catalog_sync.config import HostNetwork
from catalog_sync.errors import SourceError
from catalog_sync.sources.gitenv import REMOTE, git_environment
from catalog_sync.sources.hostreach import DIRECT, Reach, reach_of
from tests.fixtures.http import make_certificate

PROXY = "http://proxy.acme.internal:3128"
HOST = "https://ghe.acme.internal"


def test_a_source_without_network_keys_goes_direct_and_tells_git_to_as_well() -> None:
    reach = reach_of("acme", HostNetwork(), {"https_proxy": "http://elsewhere:8080"})
    assert reach == DIRECT
    assert reach.api_ca_file == DEFAULT_CA_BUNDLE_PATH
    assert reach.git_config(HOST) == [("http.proxy", ""), (f"http.{HOST}/.proxy", "")]


def test_the_proxy_credentials_reach_git_written_into_its_url_and_libcurl_as_they_are() -> None:
    network = HostNetwork(proxy=PROXY, proxy_auth_env="PROXY_AUTH")
    reach = reach_of("acme", network, {"PROXY_AUTH": "  'ops:p@ss:w/rd ?#'  "})  # quotes kept by docker
    assert reach.proxy_credentials == "ops:p@ss:w/rd ?#"
    written = "http://ops:p%40ss%3Aw%2Frd%20%3F%23@proxy.acme.internal:3128"
    assert reach.git_config(HOST) == [
        ("http.proxy", written),
        (f"http.{HOST}/.proxy", written),
        (f"credential.{PROXY}.helper", ""),
    ]
    assert "p@ss:w/rd ?#" in reach.secrets()
    assert "p@ss" not in repr(reach)  # a traceback's or a log line's view of the source


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "not set"),
        ("", "not set"),
        ("   ", "not set"),
        ("hunter2", "user:password"),
        (":hunter2", "user:password"),
        ("ops:hunter\n2", "control character"),
        ("ops:hunter2%", "'%'"),
    ],
)
def test_proxy_credentials_that_could_not_work_fail_the_source_naming_the_key_never_the_value(
    value: str | None, fragment: str
) -> None:
    environ = {} if value is None else {"PROXY_AUTH": value}
    with pytest.raises(SourceError) as refused:
        reach_of("acme", HostNetwork(proxy=PROXY, proxy_auth_env="PROXY_AUTH"), environ)
    message = str(refused.value)
    assert "source 'acme': proxy_auth_env names PROXY_AUTH" in message
    assert fragment in message
    assert "hunter" not in message


def test_an_authority_file_is_checked_when_the_source_is_built(tmp_path: Path) -> None:
    certificate = make_certificate(tmp_path)
    reach = reach_of("acme", HostNetwork(ca_file=str(certificate.cert)), {})
    assert reach.api_ca_file == str(certificate.cert)
    assert ("http.sslCAInfo", str(certificate.cert)) in reach.git_config(HOST)
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    cases = {
        str(tmp_path / "missing.pem"): "cannot be read",
        str(tmp_path): "cannot be read",  # a folder
        str(certificate.key): "no PEM certificate",  # the key given in its place
        str(broken): "cannot load",
    }
    for path, fragment in cases.items():
        with pytest.raises(SourceError, match=fragment) as refused:
            reach_of("acme", HostNetwork(ca_file=path), {})
        assert f"source 'acme': ca_file {path}" in str(refused.value)


def test_git_takes_the_source_s_authorities_and_proxy_over_the_environment_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_SSL_CAINFO", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("no_proxy", "*")
    reach = Reach(proxy=PROXY, ca_file="/etc/ssl/acme-ca.pem")
    env = git_environment(f"{HOST}/acme/pay.git", ("https",), reach.git_config(HOST))
    assert env["GIT_SSL_CAINFO"] == "/etc/ssl/acme-ca.pem"  # git reads the variable before its settings
    assert env["no_proxy"] == env["NO_PROXY"] == ""  # no exception, set for other tools, applies

    shown = subprocess.run(
        ["git", "config", "--get", "http.proxy"], env=env, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == PROXY
    assert any(value == f"remote.{REMOTE}.url" for value in env.values())


def test_git_checks_an_https_proxy_against_the_source_s_authorities_over_the_environment_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """git reads ``GIT_PROXY_SSL_CAINFO`` before ``http.proxySSLCAInfo``, as it does ``GIT_SSL_CAINFO``:
    one set for other tools would decide which authorities the source's proxy is checked against."""
    monkeypatch.setenv("GIT_PROXY_SSL_CAINFO", "/etc/ssl/certs/ca-certificates.crt")
    reach = Reach(proxy="https://proxy.acme.internal:3129", ca_file="/etc/ssl/acme-ca.pem")
    env = git_environment(f"{HOST}/acme/pay.git", ("https",), reach.git_config(HOST))
    assert env["GIT_PROXY_SSL_CAINFO"] == "/etc/ssl/acme-ca.pem"


def test_a_source_that_names_no_way_keeps_the_environment_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_SSL_CAINFO", "/etc/ssl/certs/ca-certificates.crt")
    env = git_environment("https://git.example.com/pay.git", ("https",))
    assert "GIT_SSL_CAINFO" not in env
    assert "no_proxy" not in env
