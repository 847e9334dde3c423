"""A github source authenticated as a GitHub App, against a local GitHub that mints installation tokens
as GitHub does (a JWT checked for its signature, ``iss``, ``iat`` and ``exp``; a 404 for an
installation the app does not have; tokens that live an hour unless revoked)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from catalog_sync.config import AppAuth
from catalog_sync.sources import githubauth
from catalog_sync.sources.githubauth import AppInstallation, credentials_for
from catalog_sync.sources.hostapi import HostLimits
from catalog_sync.store.tables import repositories
from tests.fixtures.fakegithub import FakeGitHub, FakeRepo, Fault, GitHubApp
from tests.integration.conftest import Catalog, product_yaml
from tests.integration.test_github_source import refused_unasked

KEY_ENV = "CATALOG_TEST_APP_KEY"


@pytest.fixture
def hub(app_hub: FakeGitHub) -> FakeGitHub:
    """The local GitHub that takes App installation tokens alone."""
    return app_hub


def use_app(catalog: Catalog, hub: FakeGitHub, app: GitHubApp, installation_id: int = 5678) -> None:
    """Point the catalog at ``acme`` on the fake, authenticated as ``app``'s installation."""
    auth = {"app": {"app_id": app.app_id, "private_key_env": KEY_ENV, "installation_id": installation_id}}
    source = {"name": "acme", "type": "github", "org": "acme", "api_url": hub.api_url, "auth": auth}
    catalog.config = {"sources": [source], "sync": {"allowed_protocols": ["http"], "concurrency": 1}}
    catalog.reset_engine()


def synced_with_app(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> tuple[GitHubApp, FakeRepo]:
    """``acme/pay`` listed and read once through a GitHub App; answers the app and the repository."""
    app = hub.add_app()
    monkeypatch.setenv(KEY_ENV, app.private_key_pem)
    pay = hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_app(catalog, hub, app)
    assert catalog.sync().sources[0]["error"] is None
    return app, pay


def test_a_revoked_installation_token_is_minted_again_once_and_the_pass_succeeds(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, pay = synced_with_app(catalog, hub, monkeypatch)
    assert len(app.minted) == 1
    hub.revoke(app.minted[0])  # revoked long before its hour is up
    hub.push(pay, {"catalog-info.yaml": product_yaml("pay", description="after")})
    summary = catalog.sync()
    assert summary.sources[0]["error"] is None
    assert len(app.minted) == 2
    entity = catalog.entity("product:default/pay")
    assert entity is not None
    assert entity["body"]["metadata"]["description"] == "after"


def test_a_host_refusing_every_installation_token_is_not_asked_for_one_in_a_loop(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = hub.add_app()
    monkeypatch.setenv(KEY_ENV, app.private_key_pem)
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    hub.add_repo("acme", "ledger", {"catalog-info.yaml": product_yaml("ledger")})
    use_app(catalog, hub, app)
    assert catalog.sync().sources[0]["error"] is None
    hub.refuse_installation_tokens = True  # every token, even a new one, is refused
    for _ in range(3):
        summary = catalog.sync()
        assert "HTTP 401" in summary.sources[0]["error"]
    assert len(app.minted) == 2  # one renewal after the first refusal, then no more


def test_a_token_revoked_again_later_in_its_life_is_minted_again_too(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(githubauth, "REFUSED_AGAIN_SECONDS", 1.0)  # a minute, in production
    app = hub.add_app()
    monkeypatch.setenv(KEY_ENV, app.private_key_pem)
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_app(catalog, hub, app)
    assert catalog.sync().sources[0]["error"] is None
    hub.revoke(app.minted[0])
    assert catalog.sync().sources[0]["error"] is None
    assert len(app.minted) == 2
    time.sleep(1.2)
    hub.revoke(app.minted[1])  # the replacement, revoked in its turn (the app reinstalled again)
    assert catalog.sync().sources[0]["error"] is None
    assert len(app.minted) == 3


def test_a_wrong_installation_id_fails_the_source_naming_the_key(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = hub.add_app(installation_id=5678)
    monkeypatch.setenv(KEY_ENV, app.private_key_pem)
    use_app(catalog, hub, app, installation_id=9999)
    error = catalog.sync().sources[0]["error"]
    assert "auth.app.installation_id" in error
    assert "9999" in error
    assert "BEGIN" not in error


def test_installation_tokens_asked_by_many_threads_at_once_are_minted_once(hub: FakeGitHub) -> None:
    app = hub.add_app()
    auth = AppAuth(app_id=app.app_id, private_key_env=KEY_ENV, installation_id=5678)
    credentials = credentials_for("acme", auth, hub.api_url, HostLimits(), {KEY_ENV: app.private_key_pem})
    assert isinstance(credentials, AppInstallation)
    start = threading.Barrier(8)
    tokens: list[str | None] = []

    def ask() -> None:
        start.wait()
        tokens.append(credentials.token())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(app.minted) == 1
    assert tokens == [app.minted[0]] * 8


def test_a_public_key_given_for_the_app_fails_the_source_at_once_naming_the_key(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = hub.add_app()
    public = app.public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    monkeypatch.setenv(KEY_ENV, public)
    use_app(catalog, hub, app)
    error = refused_unasked(catalog, hub)
    assert f"auth.app.private_key_env names {KEY_ENV}, which holds a public key" in error
    assert "KEY-----" not in error


def test_a_key_pasted_on_one_line_with_backslash_n_reads_the_organisation(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = hub.add_app()
    monkeypatch.setenv(KEY_ENV, app.private_key_pem.replace("\n", "\\n"))
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_app(catalog, hub, app)
    assert catalog.sync().sources[0]["error"] is None
    assert catalog.entity("product:default/pay") is not None


def test_installation_tokens_and_the_jwt_appear_in_no_answer_log_error_or_metric(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from prometheus_client import generate_latest

    from catalog_sync.cli import build_app
    from catalog_sync.metrics import EVENT_REGISTRY, sync_event_metrics

    sync_event_metrics()
    caplog.set_level(logging.DEBUG)
    app = hub.add_app()
    monkeypatch.setenv(KEY_ENV, app.private_key_pem)
    hub.echo_authorization = True  # a host that puts the header into its answers
    hub.add_repo("acme", "pay", {"catalog-info.yaml": product_yaml("pay")})
    use_app(catalog, hub, app)
    first = catalog.sync()
    hub.fail(Fault(401, "/orgs/", {}, f"Bad credentials {app.minted[0]}", times=None))
    second = catalog.sync()
    assert "HTTP 401" in second.sources[0]["error"]
    jwts = [
        s.authorization.partition(" ")[2] for s in hub.seen if s.path.startswith("/app/") and s.authorization
    ]
    assert len(app.minted) == 2
    assert jwts
    client = build_app(catalog.settings, catalog.engine).test_client()
    answers = [
        client.get(path).get_data(as_text=True)
        for path in ("/api/sources", "/api/repositories", "/api/catalog/entities", "/metrics")
    ]
    assert "acme/pay" in answers[1]
    metrics = generate_latest(EVENT_REGISTRY).decode()
    texts = [*answers, metrics, caplog.text, str(first.sources), str(second.sources), str(second.errors)]
    secrets = [*app.minted, *jwts]
    assert not [t for t in texts for secret in secrets if secret in t]


def test_an_installation_gone_while_a_pass_reads_fails_the_reads_and_empties_no_repository(
    catalog: Catalog, hub: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, pay = synced_with_app(catalog, hub, monkeypatch)
    hub.push(pay, {"catalog-info.yaml": product_yaml("pay", description="after")})
    app.installation_id = 9999  # the app uninstalled from 5678: its next mint is a 404
    hub.fail(Fault(401, "/branches/", {}, "Bad credentials"))  # the token revoked after the listing
    summary = catalog.sync()
    assert summary.sources[0]["error"] is None  # the listing itself was answered
    (row,) = repo_rows(catalog)
    assert row["state"] == "failing", row
    assert "auth.app.installation_id 5678 is no installation" in row["last_error"]
    assert row["has_descriptors"] is not False
    entity = catalog.entity("product:default/pay")
    assert entity is not None
    assert entity["orphaned_at"] is None


def repo_rows(catalog: Catalog) -> list[dict[str, Any]]:
    with catalog.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(repositories)).all()]
