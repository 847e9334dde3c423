"""Hosted sources behind an organisation's proxy, and Enterprise hosts its own authority signed.

A real forward proxy (``tests/fixtures/proxy.py``) stands between the source and the fake hosts: what
it was asked is what went through it, API requests and git's smart-HTTP fetches alike. A decoy proxy
named in the environment (``https_proxy``, as other tools on the machine use it) must see nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from catalog_sync.config import GitLabSourceSettings, HostNetwork, SyncSettings, TokenAuth
from catalog_sync.sources import githubroute
from catalog_sync.sources.gitlab import GitLabSource
from catalog_sync.sources.hostapi import HostLimits
from catalog_sync.store.tables import repositories
from tests.fixtures.fakegithub import FakeGitHub, fake_github, serving_orgs
from tests.fixtures.fakegitlab import fake_gitlab
from tests.fixtures.http import make_certificate
from tests.fixtures.proxy import Proxy, forward_proxy
from tests.integration.conftest import Catalog, product_yaml

TOKEN = "ghp_" + "Pr0xyT3stT0k3n" * 3
TOKEN_ENV = "CATALOG_TEST_GITHUB_TOKEN"
PROXY_AUTH_ENV = "CATALOG_TEST_PROXY_AUTH"
PASSWORD = "p@ss:w0rd/ ok?#[]"
"""Holds characters a URL would misread, as git is given the proxy with it written in."""


@pytest.fixture
def decoy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Proxy]:
    """A proxy the environment names for every scheme, with every loopback host excepted from it."""
    with forward_proxy() as decoy:
        for variable in ("http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(variable, decoy.url)
        monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        yield decoy


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    with forward_proxy() as proxy:
        yield proxy


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serving_orgs(tmp_path / "hub", monkeypatch, (TOKEN_ENV, TOKEN), "acme") as hub:
        hub.tree_limit = 0  # every tree truncated: descriptors are read by a shallow git fetch
        yield hub


@pytest.fixture
def catalog(tmp_path: Path, sqlite_engine: Engine) -> Catalog:
    return Catalog(tmp_path, sqlite_engine)


def use_github(catalog: Catalog, hub: FakeGitHub, **network: Any) -> None:
    """One github source of ``acme`` (scans inline, so no forked process holds the fakes' sockets)."""
    source = {"name": "acme", "type": "github", "org": "acme", "api_url": hub.api_url}
    catalog.config = {
        "sources": [source | {"auth": {"token_env": TOKEN_ENV}} | network],
        "sync": {"allowed_protocols": [hub.scheme], "concurrency": 1},
    }
    catalog.reset_engine()


def read_errors(catalog: Catalog) -> list[str]:
    """Why each repository that failed was not read (its ``last_error``)."""
    with catalog.engine.connect() as conn:
        found = conn.execute(select(repositories.c.last_error).where(repositories.c.last_error.is_not(None)))
        return [str(error) for (error,) in found]


def paths(targets: list[str]) -> list[str]:
    """The paths of absolute targets (``http://host:port/path?query`` -> ``/path?query``)."""
    return ["/" + target.split("://", 1)[1].split("/", 1)[1] for target in targets]


def test_a_proxied_source_sends_every_api_request_and_git_fetch_through_its_proxy(
    catalog: Catalog, hub: FakeGitHub, proxy: Proxy, decoy: Proxy
) -> None:
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub, proxy=proxy.url)

    summary = catalog.sync()

    assert summary.sources[0]["error"] is None
    assert read_errors(catalog) == []
    assert catalog.entity("product:default/pay") is not None
    asked = proxy.targets()
    assert all(target.startswith(f"{hub.origin}/") for target in asked)
    assert any("/orgs/acme/repos" in target for target in asked)
    assert any(target.endswith("/git-upload-pack") for target in asked)  # the fetch too
    assert hub.git_requests()
    # Everything the host saw came through the proxy, although no_proxy excepts 127.0.0.1.
    assert sorted(s.path for s in hub.seen) == sorted(paths(asked))
    assert decoy.asked == []


def test_a_source_without_a_proxy_takes_none_from_the_environment_for_git_either(
    catalog: Catalog, hub: FakeGitHub, decoy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("no_proxy")
    monkeypatch.delenv("NO_PROXY")
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub)

    assert catalog.sync().sources[0]["error"] is None

    assert hub.git_requests()
    assert decoy.asked == []  # git was told "no proxy", as libcurl is for the API


def test_a_proxy_asking_for_credentials_gets_them_from_the_variable_named_and_never_shows_them(
    catalog: Catalog,
    hub: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    with forward_proxy(credentials=f"ops:{PASSWORD}") as proxy:
        use_github(catalog, hub, proxy=proxy.url)
        refused = str(catalog.sync().sources[0]["error"])
        assert "407" in refused
        assert "proxy_auth_env" in refused
        assert hub.seen == []

        monkeypatch.setenv(PROXY_AUTH_ENV, f"ops:{PASSWORD}")
        use_github(catalog, hub, proxy=proxy.url, proxy_auth_env=PROXY_AUTH_ENV)
        assert catalog.sync().sources[0]["error"] is None
        assert read_errors(catalog) == []
        assert catalog.entity("product:default/pay") is not None
        assert any(target.endswith("/git-upload-pack") for target in proxy.targets())

        # A password changed on the proxy but not here: the pass fails, and removes nothing.
        monkeypatch.setenv(PROXY_AUTH_ENV, "ops:an-old-password")
        use_github(catalog, hub, proxy=proxy.url, proxy_auth_env=PROXY_AUTH_ENV)
        hub.push(pay, {"catalog-info.yaml": product_yaml("pay", description="moved")})
        caplog.set_level(logging.DEBUG)
        failed = catalog.sync().sources[0]["error"]
        assert failed is not None
        assert "407" in str(failed)
        assert catalog.entity("product:default/pay") is not None
    for shown in (refused, str(failed), caplog.text):
        assert PASSWORD not in shown
        assert "an-old-password" not in shown


@pytest.fixture
def tls_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeGitHub, str]]:
    """The fake GitHub in https, with the authority (``ca_file``) that signed its certificate."""
    certificate = make_certificate(tmp_path / "ca")
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with fake_github(tmp_path / "tls-hub", tls=certificate) as hub:
        hub.orgs.add("acme")
        hub.tokens.add(TOKEN)
        hub.tree_limit = 0
        yield hub, str(certificate.cert)


def test_an_https_host_is_reached_through_a_tunnel_trusting_the_source_s_authority(
    catalog: Catalog, tls_hub: tuple[FakeGitHub, str], proxy: Proxy, decoy: Proxy
) -> None:
    hub, authority = tls_hub
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})

    use_github(catalog, hub, proxy=proxy.url)  # the bundled authorities do not know this one
    unknown = str(catalog.sync().sources[0]["error"])
    assert "certificate" in unknown.lower()
    assert hub.seen == []

    use_github(catalog, hub, proxy=proxy.url, ca_file=authority)
    assert catalog.sync().sources[0]["error"] is None
    assert read_errors(catalog) == []

    assert catalog.entity("product:default/pay") is not None
    assert hub.git_requests()
    assert all(s.authorization for s in hub.seen)
    # The proxy opened tunnels and read nothing: no path, no token, not even the API's path.
    assert {asked.method for asked in proxy.asked} == {"CONNECT"}
    assert set(proxy.targets()) == {f"127.0.0.1:{hub.port}"}
    assert all("authorization" not in asked.headers for asked in proxy.asked)
    assert decoy.asked == []


def test_a_gitlab_source_lists_and_fetches_through_its_proxy(
    tmp_path: Path, proxy: Proxy, decoy: Proxy
) -> None:
    token = "glpat-Pr0xyT3stT0ken-abc"
    with fake_gitlab(tmp_path / "gitlab", token=token) as gitlab:
        gitlab.add_project("acme", "pay", files={"catalog-info.yaml": "kind: Product\n"})
        settings = GitLabSourceSettings(
            name="acme-gl",
            group="acme",
            api_url=gitlab.api_url,
            auth=TokenAuth("GITLAB_TOKEN"),
            network=HostNetwork(proxy=proxy.url),
        )
        sync = SyncSettings(allowed_protocols=("http",))
        built = GitLabSource(
            settings,
            tmp_path / "cache",
            sync,
            environ={"GITLAB_TOKEN": token},
            limits=HostLimits(timeout=10.0),
        )
        (repository,) = built.discover()
        snapshot = repository.snapshot(repository.tip())
        try:
            assert [entry.path for entry in snapshot.tree()] == ["catalog-info.yaml"]
        finally:
            snapshot.close()
        seen = [r.path for r in gitlab.requests]
    asked = proxy.targets()
    assert any("/groups/acme/projects" in target or "/groups/acme" in target for target in asked)
    assert any(target.endswith("/git-upload-pack") for target in asked)
    assert len(seen) == len(asked)
    assert decoy.asked == []


def test_a_github_app_s_installation_token_is_minted_through_the_proxy(
    catalog: Catalog, hub: FakeGitHub, proxy: Proxy, decoy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = hub.add_app()
    hub.tokens.clear()
    hub.require_auth = True
    monkeypatch.setenv("CATALOG_TEST_APP_KEY", app.private_key_pem)
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub, proxy=proxy.url)
    catalog.config["sources"][0]["auth"] = {
        "app": {"app_id": app.app_id, "private_key_env": "CATALOG_TEST_APP_KEY", "installation_id": 5678}
    }

    assert catalog.sync().sources[0]["error"] is None

    assert read_errors(catalog) == []
    assert len(app.minted) == 1
    assert any(target.endswith("/access_tokens") for target in proxy.targets())
    assert sorted(s.path for s in hub.seen) == sorted(paths(proxy.targets()))
    assert decoy.asked == []


def test_every_page_of_a_listing_is_read_through_a_tunnel(
    catalog: Catalog, tls_hub: tuple[FakeGitHub, str], proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer's own headers (``Link``, ``ETag``, the rate limit) are read, never the proxy's
    ``200 Connection established`` that opened the tunnel: with those, the listing stopped at its
    first page, and the repositories on the others were missing from the catalog."""
    monkeypatch.setattr(githubroute, "PER_PAGE", 1)
    hub, ca_file = tls_hub
    for name in ("pay", "ship", "bill"):
        hub.add_repo("acme", name, {"catalog-info.yaml": product_yaml(name)})
    use_github(catalog, hub, proxy=proxy.url, ca_file=ca_file)

    assert catalog.sync().sources[0]["error"] is None

    assert read_errors(catalog) == []
    for name in ("pay", "ship", "bill"):
        assert catalog.entity(f"product:default/{name}") is not None


def test_a_proxy_refusing_a_tunnel_for_want_of_credentials_names_the_key_to_set(
    catalog: Catalog, tls_hub: tuple[FakeGitHub, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 407 to ``CONNECT`` (every https host, GitHub.com among them) says what a 407 to a request
    in absolute form says: which key to check. The pass fails and removes nothing."""
    hub, ca_file = tls_hub
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    with forward_proxy(credentials=f"ops:{PASSWORD}") as proxy:
        monkeypatch.setenv(PROXY_AUTH_ENV, f"ops:{PASSWORD}")
        use_github(catalog, hub, proxy=proxy.url, proxy_auth_env=PROXY_AUTH_ENV, ca_file=ca_file)
        assert catalog.sync().sources[0]["error"] is None

        monkeypatch.setenv(PROXY_AUTH_ENV, "ops:an-old-password")
        use_github(catalog, hub, proxy=proxy.url, proxy_auth_env=PROXY_AUTH_ENV, ca_file=ca_file)
        failed = str(catalog.sync().sources[0]["error"])
    assert "407" in failed
    assert "proxy_auth_env" in failed
    assert proxy.url in failed
    assert "an-old-password" not in failed
    assert catalog.entity("product:default/pay") is not None


def test_the_proxy_s_password_is_never_handed_to_a_credential_helper(
    catalog: Catalog, hub: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine's git often stores what it is given (``credential.helper=store``, a keychain): the
    proxy's password, given to git for the source's fetches, must not be written there."""
    stored = tmp_path / "git-credentials"
    settings = tmp_path / "gitconfig"
    settings.write_text(f"[credential]\n\thelper = store --file={stored}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(settings))
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    with forward_proxy(credentials=f"ops:{PASSWORD}") as proxy:
        monkeypatch.setenv(PROXY_AUTH_ENV, f"ops:{PASSWORD}")
        use_github(catalog, hub, proxy=proxy.url, proxy_auth_env=PROXY_AUTH_ENV)

        assert catalog.sync().sources[0]["error"] is None

        assert any(target.endswith("/git-upload-pack") for target in proxy.targets())
    assert catalog.entity("product:default/pay") is not None
    assert not stored.exists() or "ops" not in stored.read_text()


def test_a_proxy_password_beyond_ascii_reaches_the_proxy_from_the_api_and_git_alike(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent in UTF-8 by both (RFC 7617), as git sends what ``http.proxy`` holds percent-encoded."""
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    with forward_proxy(credentials="ops:pässwörd-€") as proxy:
        monkeypatch.setenv(PROXY_AUTH_ENV, "ops:pässwörd-€")
        use_github(catalog, hub, proxy=proxy.url, proxy_auth_env=PROXY_AUTH_ENV)

        assert catalog.sync().sources[0]["error"] is None

        assert read_errors(catalog) == []
        assert any(target.endswith("/git-upload-pack") for target in proxy.targets())
    assert catalog.entity("product:default/pay") is not None


def test_an_authority_file_whose_path_is_beyond_ascii_is_trusted(
    catalog: Catalog, tls_hub: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    hub, ca_file = tls_hub
    renamed = tmp_path / "autorité-ĉ.pem"
    renamed.write_bytes(Path(ca_file).read_bytes())
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_github(catalog, hub, ca_file=str(renamed))

    assert catalog.sync().sources[0]["error"] is None

    assert read_errors(catalog) == []
    assert catalog.entity("product:default/pay") is not None


@pytest.mark.parametrize("own", [True, False], ids=["through-its-proxy", "direct"])
def test_a_proxy_the_machine_s_git_names_for_the_host_takes_none_of_the_source_s_fetches(
    catalog: Catalog,
    hub: FakeGitHub,
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    own: bool,
) -> None:
    """git prefers ``http.<url>.proxy`` to ``http.proxy`` whatever their order: one the machine's
    configuration names for the host would take the fetches (and, to an http host, the token)."""
    settings = tmp_path / "gitconfig"
    with forward_proxy() as elsewhere:
        settings.write_text(f'[http "{hub.origin}"]\n\tproxy = {elsewhere.url}\n')
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(settings))
        hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
        use_github(catalog, hub, **({"proxy": proxy.url} if own else {}))

        assert catalog.sync().sources[0]["error"] is None

        assert hub.git_requests()
        assert elsewhere.asked == []
    assert any(target.endswith("/git-upload-pack") for target in proxy.targets()) is own
    assert catalog.entity("product:default/pay") is not None
