"""A github source configured with ``user:`` lists every repository of that user its credentials can
read, as GitHub shows them: private ones with the user's own token or an App installed on the user,
public ones only with another user's token; a pass where nothing changed still costs only conditional
list requests, and a token whose login cannot be learned removes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.fakegithub import FakeGitHub, Fault, fake_github
from tests.integration.conftest import Catalog, product_yaml

TOKEN = "ghp_" + "Us3rT0k3nS3cr3t" * 2
TOKEN_ENV = "CATALOG_TEST_GITHUB_USER_TOKEN"
APP_KEY_ENV = "CATALOG_TEST_GITHUB_APP_KEY"
OWN_LIST = "/user/repos?affiliation=owner&visibility=all&per_page=100"
PUBLIC_LIST = "/users/octo/repos?per_page=100&type=owner"
INSTALLATION_LIST = "/installation/repositories?per_page=100"


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with fake_github(tmp_path / "hub") as hub:
        hub.orgs.add("acme")
        hub.require_auth = True
        yield hub


def use_user_source(catalog: Catalog, hub: FakeGitHub, user: str, auth: dict[str, Any]) -> None:
    """Point the catalog at the fake's user ``user``, with ``auth``."""
    source = {"name": "octo", "type": "github", "user": user, "api_url": hub.api_url, "auth": auth}
    catalog.config = {
        "sources": [source],
        # Scans inline: a scanning pool forked from this process would inherit the fake host's open
        # connections (it serves from threads of the test process) and hold them open.
        "sync": {"allowed_protocols": ["http"], "concurrency": 1},
    }
    catalog.reset_engine()


def with_app(hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch, *accounts: str) -> dict[str, Any]:
    """A GitHub App installed on ``accounts``; the source's ``auth`` that uses it."""
    app = hub.add_app()
    app.accounts.update(accounts)
    monkeypatch.setenv(APP_KEY_ENV, app.private_key_pem)
    return {"app": {"app_id": app.app_id, "private_key_env": APP_KEY_ENV, "installation_id": 5678}}


def listed_paths(hub: FakeGitHub) -> list[str]:
    """The GET requests' paths, in order (the installation token's mint is a POST)."""
    return [s.path for s in hub.api_requests() if s.method == "GET"]


def products(catalog: Catalog) -> set[str]:
    return {r for r in catalog.refs() if r.startswith("product:")}


def test_a_user_source_with_the_users_own_token_lists_and_reads_its_private_repositories(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.add_user_token(TOKEN, "octo")
    hub.add_repo("octo", "shown", {"catalog-info.yaml": product_yaml("shown")})
    hidden = hub.add_repo("octo", "hidden", {"catalog-info.yaml": product_yaml("hidden")}, private=True)
    hub.add_repo("acme", "theirs", {"catalog-info.yaml": product_yaml("theirs")}, private=True)
    use_user_source(catalog, hub, "Octo", {"token_env": TOKEN_ENV})  # a login is compared without case
    summary = catalog.sync()
    assert summary.sources[0]["error"] is None
    assert products(catalog) == {"product:default/shown", "product:default/hidden"}
    assert catalog.repository("octo/hidden")["key"] == hub.key(hidden)
    paths = listed_paths(hub)
    assert paths[:2] == ["/user", OWN_LIST]
    assert PUBLIC_LIST not in paths
    assert any(p.startswith("/repos/octo/hidden/git/blobs/") for p in paths)  # read with the token


def test_a_user_source_with_another_users_token_lists_only_public_repositories(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.add_user_token(TOKEN, "someone-else")
    hub.add_repo("octo", "shown", {"catalog-info.yaml": product_yaml("shown")})
    hub.add_repo("octo", "hidden", {"catalog-info.yaml": product_yaml("hidden")}, private=True)
    hub.add_repo("someone-else", "mine", {"catalog-info.yaml": product_yaml("mine")}, private=True)
    use_user_source(catalog, hub, "octo", {"token_env": TOKEN_ENV})
    summary = catalog.sync()
    assert summary.sources[0]["error"] is None
    assert products(catalog) == {"product:default/shown"}
    assert listed_paths(hub)[:2] == ["/user", PUBLIC_LIST]


def test_a_user_source_with_an_app_installed_on_the_user_lists_its_private_repositories_only(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = with_app(hub, monkeypatch, "octo", "acme")  # the installation sees acme's repositories too
    hub.add_repo("octo", "shown", {"catalog-info.yaml": product_yaml("shown")})
    hub.add_repo("octo", "hidden", {"catalog-info.yaml": product_yaml("hidden")}, private=True)
    hub.add_repo("acme", "theirs", {"catalog-info.yaml": product_yaml("theirs")}, private=True)
    hub.add_repo("acme", "open", {"catalog-info.yaml": product_yaml("open")})
    hub.add_repo("stranger", "other", {"catalog-info.yaml": product_yaml("other")})
    use_user_source(catalog, hub, "OCTO", auth)
    summary = catalog.sync()
    assert summary.sources[0]["error"] is None
    assert summary.sources[0]["repositories"] == 2
    assert products(catalog) == {"product:default/shown", "product:default/hidden"}
    paths = listed_paths(hub)
    assert paths[0] == INSTALLATION_LIST
    assert "/user" not in paths  # an installation token has no user: its list is the installation's
    assert not any(p.startswith("/repos/acme/") for p in paths)


def test_a_user_source_given_an_installation_token_as_its_token_lists_the_installations_repositories(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installation token (``ghs_``, such as a CI job's) in ``token_env`` has no user: GitHub
    refuses it ``GET /user``, and it reads the installation's list as the App itself would."""
    app = hub.add_app()
    app.accounts.add("octo")
    token = "ghs_" + "1nst4ll4t10n" * 3
    with hub.lock:
        app.minted.append(token)
        hub.expiring[token] = time.time() + 3600
    monkeypatch.setenv(TOKEN_ENV, token)
    hub.add_repo("octo", "shown", {"catalog-info.yaml": product_yaml("shown")})
    hub.add_repo("octo", "hidden", {"catalog-info.yaml": product_yaml("hidden")}, private=True)
    use_user_source(catalog, hub, "octo", {"token_env": TOKEN_ENV})
    summary = catalog.sync()
    assert summary.sources[0]["error"] is None
    assert products(catalog) == {"product:default/shown", "product:default/hidden"}
    paths = listed_paths(hub)
    assert paths[0] == INSTALLATION_LIST
    assert "/user" not in paths


def test_a_private_repository_whose_tree_the_api_truncates_is_fetched_by_git_with_the_token(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.add_user_token(TOKEN, "octo")
    hub.add_repo("octo", "mono", {"catalog-info.yaml": product_yaml("mono")}, private=True)
    hub.tree_limit = 0  # a truncated tree: read by a shallow fetch, which the private repository refuses
    use_user_source(catalog, hub, "octo", {"token_env": TOKEN_ENV})  # to anyone but its readers
    summary = catalog.sync()
    assert summary.sources[0]["error"] is None
    assert products(catalog) == {"product:default/mono"}
    fetched = hub.git_requests()
    assert fetched
    assert all(s.status == 200 for s in fetched)


@pytest.mark.parametrize("credentials", ["token", "app"])
def test_a_pass_where_nothing_changed_costs_a_user_source_only_conditional_list_requests(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch, credentials: str
) -> None:
    if credentials == "token":
        hub.add_user_token(TOKEN, "octo")
        auth: dict[str, Any] = {"token_env": TOKEN_ENV}
    else:
        auth = with_app(hub, monkeypatch, "octo", "acme")
        hub.add_copies("acme", hub.add_repo("acme", "lib", {"README.md": "x\n"}), ["a", "b"], private=True)
    template = hub.add_repo("octo", "template", {"README.md": "no descriptors here\n"}, private=True)
    hub.add_copies("octo", template, [f"svc-{i:03}" for i in range(119)], private=True)
    hub.add_repo("octo", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_user_source(catalog, hub, "octo", auth)
    assert catalog.sync().sources[0]["repositories"] == 121
    hub.clear()
    assert catalog.sync().unchanged == 121
    assert [(s.conditional, s.status) for s in hub.api_requests()] == [(True, 304)] * 2
    assert all("repos" in p for p in listed_paths(hub))
    assert hub.git_requests() == []
    hub.clear()
    catalog.reset_engine()  # a restarted worker: the login is asked again, conditionally
    assert catalog.sync().unchanged == 121
    asked = [(s.path, s.conditional, s.status) for s in hub.api_requests() if s.method == "GET"]
    assert all(conditional and status == 304 for _, conditional, status in asked)
    expected = 3 if credentials == "token" else 2
    assert len(asked) == expected
    assert hub.git_requests() == []


def test_a_token_whose_login_cannot_be_learned_fails_the_listing_and_removes_nothing(
    catalog: Catalog, hub: FakeGitHub
) -> None:
    hub.add_user_token(TOKEN, "octo")
    hub.add_repo("octo", "hidden", {"catalog-info.yaml": product_yaml("hidden")}, private=True)
    use_user_source(catalog, hub, "octo", {"token_env": TOKEN_ENV})
    catalog.sync()
    assert products(catalog) == {"product:default/hidden"}
    hub.fail(Fault(502, match="/user", times=None))  # the login's request fails (and the lists')
    for _ in range(3):
        catalog.reset_engine()
        summary = catalog.sync()
        assert "/user" in (summary.sources[0]["error"] or "")
        assert catalog.entity("product:default/hidden")["orphaned_at"] is None  # type: ignore[index]
